//! The template environment: the templates are compiled into the crate
//! (`include_str!`), so a report needs no files at run time. `.html`
//! templates escape every value (minijinja's auto-escaping by file name).

use crate::error::ReportError;
use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;
use std::sync::OnceLock;

const TEMPLATES: [(&str, &str); 6] = [
    ("style.css", include_str!("../templates/style.css")),
    ("base.html", include_str!("../templates/base.html")),
    ("charts.html", include_str!("../templates/charts.html")),
    ("person.html", include_str!("../templates/person.html")),
    ("org.html", include_str!("../templates/org.html")),
    (
        "validation.html",
        include_str!("../templates/validation.html"),
    ),
];

fn build() -> Result<Environment<'static>, minijinja::Error> {
    let mut env = Environment::new();
    // A misspelt field is an error, not an empty string in the page.
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    for (name, source) in TEMPLATES {
        env.add_template(name, source)?;
    }
    Ok(env)
}

static ENV: OnceLock<Environment<'static>> = OnceLock::new();

/// Renders template `name` with `context`.
pub fn render(name: &str, context: impl Serialize) -> Result<String, ReportError> {
    let env = match ENV.get() {
        Some(env) => env,
        None => {
            let built = build()?;
            ENV.get_or_init(|| built)
        }
    };
    let context = minijinja::Value::from(minijinja::value::Serde(context));
    Ok(env.get_template(name)?.render(context)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles() {
        let env = build().unwrap();
        for (name, _) in TEMPLATES {
            assert!(env.get_template(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn html_templates_escape_values() {
        let mut env = build().unwrap();
        env.add_template("probe.html", "{{ x }}").unwrap();
        let html = env
            .get_template("probe.html")
            .unwrap()
            .render(minijinja::context! { x => "<script>\"&" })
            .unwrap();
        assert_eq!(html, "&lt;script&gt;&quot;&amp;");
    }
}
