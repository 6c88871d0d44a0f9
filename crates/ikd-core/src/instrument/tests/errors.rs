//! Each error class names the right subject, field and line; all errors of a
//! file are reported together.

use super::*;

const LD01: &str = "item 'LD01'";
const BD01: &str = "item 'BD01'";
const LITERASI: &str = "domain 'literasi-digital'";
const BUDAYA: &str = "domain 'budaya-data'";

#[test]
fn syntax_errors_report_line_and_column() {
    let text = base_with("reverse = true", "reverse = tru");
    let all = diagnostics(&text);
    assert_eq!(all.len(), 1, "{}", render(&all));
    let location = all[0].location.expect("a location");
    assert_eq!(location.line, line_of(&text, "reverse = tru"));
    assert_eq!(location.column, 11);
    assert!(
        all[0]
            .to_string()
            .starts_with(&format!("{FILE}:{}:11: ", location.line)),
        "{}",
        all[0]
    );
}

#[test]
fn type_errors_name_the_item_and_field() {
    let text = base_with("weight = 2.0\ntext", "weight = \"heavy\"\ntext");
    let all = diagnostics(&text);
    assert_eq!(all.len(), 1, "{}", render(&all));
    let diagnostic = the(&all, BD01, "weight");
    assert_eq!(
        diagnostic.location.map(|l| l.line),
        Some(line_of(&text, "weight = \"heavy\""))
    );
    assert!(diagnostic.message.contains("invalid type"), "{diagnostic}");
    expect(
        &base_with("text = { id = \"Saya", "text = 3\nx = { id = \"Saya"),
        LD01,
        "text",
        "text = 3",
        "bilingual text",
    );
}

#[test]
fn missing_required_fields_are_named() {
    expect(
        &base_with("kind = \"likert\"\n", ""),
        LD01,
        "",
        "[[items]]",
        "missing field 'kind'",
    );
    expect(
        &base_with("model = \"weighted-index\"\n", ""),
        "[scoring]",
        "",
        "[scoring]",
        "missing field 'model'",
    );
}

#[test]
fn unknown_keys_in_fixed_sections_are_errors() {
    let text = format!("{BASE}\n[missing]\nmin_answerd = 2\n");
    expect(
        &text,
        "[missing]",
        "min_answerd",
        "min_answerd",
        "unknown field 'min_answerd'",
    );
    let text = base_with("weight = 0.6", "wieght = 0.6");
    expect(
        &text,
        LITERASI,
        "wieght",
        "wieght",
        "unknown field 'wieght'",
    );
    let text = base_with("  weight = 2.0", "  wait = 2.0");
    expect(
        &text,
        "domain 'budaya-data', indicator 'berbagi'",
        "wait",
        "wait",
        "unknown field 'wait'",
    );
    let text = base_with("{ code = \"a\" }", "{ code = \"a\", credits = 1 }");
    expect(
        &text,
        "item 'BD01', option 'a'",
        "credits",
        "credits",
        "unknown field 'credits'",
    );
    let text = base_with(
        "[[levels]]\ncode = \"tinggi\"",
        "[[levels]]\ncode = \"tinggi\"\nlabel = 1",
    );
    expect(
        &text,
        "level 'tinggi'",
        "label",
        "label = 1",
        "unknown field 'label'",
    );
    expect(
        &format!("{BASE}\n[[item]]\nid = \"X\"\n"),
        "[[item]]",
        "",
        "[[item]]",
        "unknown field 'item'",
    );
}

#[test]
fn duplicate_item_ids_say_where_the_first_is() {
    let text = base_with("id = \"BD01\"", "id = \"LD01\"");
    let all = diagnostics(&text);
    let duplicate = &all[0];
    assert_eq!(all.len(), 1, "{}", render(&all));
    assert_eq!(
        (duplicate.subject.as_str(), duplicate.field.as_str()),
        (LD01, "id")
    );
    let second = text.rfind("id = \"LD01\"").expect("second item");
    assert_eq!(
        duplicate.location.map(|l| l.line),
        Some(text[..second].matches('\n').count() + 1)
    );
    let first = line_of(&text, "id = \"LD01\"");
    assert!(
        duplicate
            .message
            .contains(&format!("first declared at line {first}, column 6")),
        "{duplicate}"
    );
}

#[test]
fn unknown_references_list_what_is_declared() {
    let text = base_with("domain = \"budaya-data\"", "domain = \"budaya\"");
    expect(
        &text,
        BD01,
        "domain",
        "domain = \"budaya\"",
        "unknown domain 'budaya' (declared: literasi-digital, budaya-data)",
    );
    let text = base_with("indicator = \"informasi\"", "indicator = \"berbagi\"");
    expect(
        &text,
        LD01,
        "indicator",
        "indicator = \"berbagi\"\nkind = \"likert\"",
        "unknown indicator 'berbagi' in domain 'literasi-digital' (its indicators: informasi)",
    );
    let text = base_with("scale = \"setuju-5\"", "scale = \"setuju-7\"");
    expect(
        &text,
        LD01,
        "scale",
        "setuju-7",
        "unknown scale 'setuju-7' (declared: setuju-5)",
    );
}

#[test]
fn weights_must_be_finite_and_positive() {
    expect(
        &base_with("weight = 2.0\ntext", "weight = -1\ntext"),
        BD01,
        "weight",
        "weight = -1",
        "above 0 (found -1)",
    );
    expect(
        &base_with("weight = 2.0\ntext", "weight = nan\ntext"),
        BD01,
        "weight",
        "weight = nan",
        "found NaN",
    );
    expect(
        &base_with("weight = 0.6", "weight = 0"),
        LITERASI,
        "weight",
        "weight = 0\n",
        "above 0",
    );
    expect(
        &base_with("  weight = 2.0", "  weight = inf"),
        "domain 'budaya-data', indicator 'berbagi'",
        "weight",
        "weight = inf",
        "finite",
    );
}

#[test]
fn domain_weights_must_sum_to_a_declared_weights_sum() {
    let text = base_with("weight = 0.6", "weight = 0.5");
    expect(
        &text,
        "[scoring]",
        "weights_sum",
        "weights_sum",
        "sum to 0.9 (literasi-digital 0.5 + budaya-data 0.4)",
    );
    // Within the tolerance is fine; without weights_sum any sum is fine.
    assert!(load_text(&base_with("weight = 0.6", "weight = 0.6000000001")).is_ok());
    assert!(
        load_text(&base_with("weights_sum = 1.0\n", "").replace("weight = 0.6", "weight = 3"))
            .is_ok()
    );
}

#[test]
fn duplicate_domain_indicator_option_and_level_codes() {
    let text = base_with("code = \"budaya-data\"", "code = \"literasi-digital\"");
    let all = diagnostics(&text);
    let duplicate = &all[0];
    assert_eq!(
        (duplicate.subject.as_str(), duplicate.field.as_str()),
        (LITERASI, "code")
    );
    assert!(
        duplicate
            .message
            .contains("duplicate domain code 'literasi-digital': first declared at line 16"),
        "{duplicate}"
    );

    let second_indicator =
        "  [[domains.indicators]]\n  code = \"berbagi\"\n  name = { id = \"B\", en = \"B\" }\n";
    let text = base_with(
        "settings = { threshold = 2 }\n",
        &format!("settings = {{ threshold = 2 }}\n{second_indicator}"),
    );
    let all = diagnostics(&text);
    let duplicate = the(&all, "domain 'budaya-data', indicator 'berbagi'", "code");
    assert!(
        duplicate
            .message
            .contains("duplicate indicator code 'berbagi'"),
        "{duplicate}"
    );

    let text = base_with("{ code = \"x\", dont_know", "{ code = \"a\", dont_know");
    expect(
        &text,
        "item 'BD01', option 'a'",
        "code",
        "options",
        "duplicate option code 'a'",
    );

    let text = base_with("code = \"tinggi\"", "code = \"rendah\"");
    let all = diagnostics(&text);
    assert_eq!(all.len(), 1, "{}", render(&all));
    assert!(
        all[0].message.contains("duplicate level code 'rendah'"),
        "{}",
        all[0]
    );
}

#[test]
fn domains_need_items_indicators_and_enough_items_to_be_scored() {
    let text = base_with(
        "domain = \"budaya-data\"\nindicator = \"berbagi\"",
        "domain = \"literasi-digital\"\nindicator = \"informasi\"",
    );
    expect(
        &text,
        BUDAYA,
        "",
        "code = \"budaya-data\"",
        "the domain has no items",
    );

    let text = format!("{BASE}\n[missing]\nmin_answered = 2\n");
    let all = diagnostics(&text);
    for subject in [LITERASI, BUDAYA] {
        let diagnostic = the(&all, subject, "min_answered");
        assert!(
            diagnostic
                .message
                .contains("has 1 item(s) but needs 2 answered"),
            "{diagnostic}"
        );
    }
    let text = base_with("weight = 0.4\n", "weight = 0.4\nmin_answered = 3\n");
    expect(
        &text,
        BUDAYA,
        "min_answered",
        "code = \"budaya-data\"",
        "its own min_answered",
    );

    let text = base_with(
        "  [[domains.indicators]]\n  code = \"informasi\"\n  name = { id = \"Informasi\", en = \"Information\" }\n",
        "",
    );
    let all = diagnostics(&text);
    assert!(
        the(&all, LITERASI, "indicators")
            .message
            .contains("no indicator"),
        "{}",
        render(&all)
    );
}

#[test]
fn versions_and_requirements_must_parse() {
    expect(
        &base_with("version = \"1.2.3\"", "version = \"1.2\""),
        "[instrument]",
        "version",
        "version =",
        "'1.2' is not a semantic version",
    );
    let text = base_with(
        "weights_sum = 1.0",
        "weights_sum = 1.0\nmodel_version = \"^^1\"",
    );
    expect(
        &text,
        "[scoring]",
        "model_version",
        "model_version",
        "not a version requirement",
    );
    let text = base_with(
        "plugin = \"budaya-data\"",
        "plugin = \"budaya-data\"\nplugin_version = \"abc\"",
    );
    expect(
        &text,
        BUDAYA,
        "plugin_version",
        "plugin_version",
        "'abc' is not a version requirement",
    );
}

#[test]
fn codes_must_follow_their_pattern() {
    let text = base_with("id = \"ikd-test\"", "id = \"IKD Test\"");
    expect(
        &text,
        "[instrument]",
        "id",
        "IKD Test",
        "'IKD Test' is not a valid id",
    );
    let text = base_with("code = \"literasi-digital\"", "code = \"literasi_digital\"").replace(
        "domain = \"literasi-digital\"",
        "domain = \"literasi_digital\"",
    );
    expect(
        &text,
        "domain 'literasi_digital'",
        "code",
        "code = \"literasi_digital\"",
        "not a valid code",
    );
}

#[test]
fn item_ids_longer_than_64_bytes_are_refused() {
    let long = "L".repeat(crate::instrument::MAX_ITEM_ID + 1);
    let text = base_with("id = \"LD01\"", &format!("id = \"{long}\""));
    let all = diagnostics(&text);
    let found = all
        .iter()
        .find(|d| d.field == "id" && d.message.contains("longer than 64 bytes"))
        .unwrap_or_else(|| panic!("{}", render(&all)));
    assert_eq!(found.location.map(|l| l.line), Some(line_of(&text, &long)));
    // 64 bytes are accepted.
    let text = base_with("id = \"LD01\"", &format!("id = \"{}\"", "L".repeat(64)));
    if let Err(error) = load_text(&text) {
        assert!(
            !error.diagnostics.iter().any(|d| d.field == "id"),
            "a 64-byte id is accepted: {error}"
        );
    }
}

#[test]
fn bilingual_texts_need_both_languages() {
    expect(
        &base_with("en = \"Test\"", "en = \"\""),
        "[instrument]",
        "title",
        "title",
        "English (en) is empty",
    );
    let text = base_with(
        "name = { id = \"Informasi\", en = \"Information\" }",
        "name = { id = \"Informasi\" }",
    );
    expect(
        &text,
        "domain 'literasi-digital', indicator 'informasi'",
        "name",
        "name = { id = \"Informasi\" }",
        "English (en)",
    );
    let text = base_with(
        "text = { id = \"Pilih.\", en = \"Choose.\" }",
        "text = { id = \" \", en = \"\" }",
    );
    expect(
        &text,
        BD01,
        "text",
        "text = { id = \" \"",
        "Bahasa Indonesia (id) and English (en)",
    );
    let text = base_with(
        "label = { id = \"Bi\", en = \"Bee\" }",
        "label = { en = \"Bee\" }",
    );
    expect(
        &text,
        "item 'BD01', option 'b'",
        "label",
        "options",
        "Bahasa Indonesia (id) is empty",
    );
}

#[test]
fn scales_need_ordered_bounds_and_one_label_per_point() {
    expect(
        &base_with("max = 5\n", "max = 1\n"),
        "scale 'setuju-5'",
        "max",
        "max = 1\n",
        "max (1) must be above min (1)",
    );
    let text = base_with(
        "max = 5\n",
        "max = 5\nlabels = [{ id = \"a\", en = \"a\" }, { id = \"b\", en = \"b\" }]\n",
    );
    expect(
        &text,
        "scale 'setuju-5'",
        "labels",
        "labels",
        "2 labels given but the scale 1..5 has 5 points",
    );
}

#[test]
fn missing_policy_and_quality_values_must_be_in_range() {
    let text = format!(
        "{BASE}\n[missing]\nmin_answered = 0\nmin_answered_fraction = 1.5\nmin_domains = 3\n\n\
         [quality]\nstraight_line_run = -1\nmin_duration_seconds = -5\n"
    );
    let all = diagnostics(&text);
    assert_eq!(all.len(), 5, "{}", render(&all));
    let check = |field: &str, section: &str, says: &str| {
        let diagnostic = the(&all, section, field);
        assert_eq!(
            diagnostic.location.map(|l| l.line),
            Some(line_of(&text, &format!("{field} =")))
        );
        assert!(diagnostic.message.contains(says), "{diagnostic}");
    };
    check("min_answered", "[missing]", "at least 1 (found 0)");
    check(
        "min_answered_fraction",
        "[missing]",
        "between 0 and 1 (found 1.5)",
    );
    check("min_domains", "[missing]", "between 1 and 2 (found 3)");
    check("straight_line_run", "[quality]", "at least 0 (found -1)");
    check(
        "min_duration_seconds",
        "[quality]",
        "0 (off) or more (found -5)",
    );
}

#[test]
fn keys_options_and_params_are_checked() {
    expect(
        &base_with("key = \"b\"", "key = \"e\""),
        BD01,
        "key",
        "key = \"e\"",
        "key 'e' is not one of the item's options (a, b, x)",
    );
    expect(
        &base_with("key = \"b\"", "key = true"),
        BD01,
        "key",
        "key = true",
        "found boolean",
    );
    expect(
        &base_with("{ code = \"a\" }", "{ code = \"a\", credit = nan }"),
        "item 'BD01', option 'a'",
        "credit",
        "credit = nan",
        "finite",
    );
    expect(
        &base_with("tolerance = 0.5", "tolerance = inf"),
        BD01,
        "tolerance",
        "tolerance = inf",
        "tolerance is inf",
    );
}

#[test]
fn levels_must_tile_the_reporting_scale() {
    let level = |code: &str, min: &str, max: &str| {
        format!(
            "[[levels]]\ncode = \"{code}\"\nname = {{ id = \"{code}\", en = \"{code}\" }}\nmin = {min}\nmax = {max}\n\n"
        )
    };
    let base_without_levels = &BASE[..BASE.find("[[levels]]").expect("levels in BASE")];
    let with_levels = |levels: &[String]| format!("{base_without_levels}{}", levels.concat());

    let all = diagnostics(base_without_levels);
    assert!(
        the(&all, "", "levels")
            .message
            .contains("no level: add [[levels]] covering 0 to 100")
    );

    let text = with_levels(&[level("a", "0", "45"), level("b", "40", "100")]);
    expect(
        &text,
        "level 'b'",
        "min",
        "min = 40",
        "level 'a' ends at 45 but level 'b' starts at 40: they overlap",
    );

    let text = with_levels(&[level("a", "0", "40"), level("b", "45", "100")]);
    expect(
        &text,
        "level 'b'",
        "min",
        "min = 45",
        "level 'a' ends at 40 but level 'b' starts at 45: values in between have no level",
    );

    let text = with_levels(&[level("b", "50", "100"), level("a", "0", "50")]);
    expect(
        &text,
        "level 'a'",
        "min",
        "min = 0",
        "list levels from lowest to highest",
    );

    let text = with_levels(&[level("a", "5", "50"), level("b", "50", "90")]);
    expect(
        &text,
        "level 'a'",
        "min",
        "min = 5",
        "must start at the reporting minimum 0 (it starts at 5)",
    );
    expect(
        &text,
        "level 'b'",
        "max",
        "max = 90",
        "must end at the reporting maximum 100 (it ends at 90)",
    );

    let text = with_levels(&[
        level("a", "0", "50"),
        level("b", "60", "60"),
        level("c", "60", "100"),
    ]);
    let all = diagnostics(&text);
    assert_eq!(
        all.len(),
        1,
        "a broken level is reported alone:\n{}",
        render(&all)
    );
    assert!(
        the(&all, "level 'b'", "max")
            .message
            .contains("max (60) must be above min (60)")
    );

    let reporting = "[reporting]\nmin = 1\nmax = 5\n\n";
    let text = with_levels(&[
        reporting.to_owned(),
        level("a", "1", "3"),
        level("b", "3", "5"),
    ]);
    assert!(
        load_text(&text).is_ok(),
        "levels follow a declared reporting scale"
    );
}

#[test]
fn every_error_of_a_file_is_reported_at_once() {
    let mut text = BASE.to_owned();
    for (from, to) in [
        ("version = \"1.2.3\"", "version = \"one\""),
        ("weight = 0.6", "weight = -0.6"),
        ("domain = \"budaya-data\"", "domain = \"budaya\""),
        ("scale = \"setuju-5\"", "scale = \"setuju-7\""),
        ("key = \"b\"", "key = \"z\""),
        ("en = \"Low\"", "en = \"\""),
        ("min = 50\nmax = 100", "min = 55\nmax = 100"),
    ] {
        text = with(&text, from, to);
    }
    let all = diagnostics(&text);
    let found: Vec<(&str, &str)> = all
        .iter()
        .map(|d| (d.subject.as_str(), d.field.as_str()))
        .collect();
    let expected = [
        ("[instrument]", "version"),
        (LITERASI, "weight"),
        (BD01, "domain"),
        (LD01, "scale"),
        (BD01, "key"),
        ("level 'rendah'", "name"),
        ("level 'tinggi'", "min"),
        (BUDAYA, ""),
    ];
    for pair in expected {
        assert!(
            found.contains(&pair),
            "{pair:?} missing from:\n{}",
            render(&all)
        );
    }
    assert_eq!(all.len(), expected.len(), "{}", render(&all));
    assert!(all.iter().all(|d| d.location.is_some()), "{}", render(&all));
}
