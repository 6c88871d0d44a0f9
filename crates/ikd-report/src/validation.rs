//! The validation report as a page: the model of
//! `ikd_research::validation` put into words and tables in one language,
//! with the information and SE curves of each domain drawn as inline SVG.
//! Every number on the page comes from the model; nothing is computed here
//! but formatting and chart geometry.

use crate::error::ReportError;
use crate::lang::{Lang, fill, integer, number, texts};
use crate::render::render;
use crate::view::InstrumentView;
use ikd_core::instrument::Instrument;
use ikd_research::validation::{CfaFit, Information, Part, Reason, ReviewReason, ValidationReport};
use serde::Serialize;
use std::collections::BTreeMap;

/// A table cell.
#[derive(Serialize)]
struct Cell {
    text: String,
    num: bool,
    /// `flag` marks a value that put the item on the review list.
    class: &'static str,
}

#[derive(Serialize)]
struct Row {
    /// `data-item` of the row, when it is an item's.
    item: Option<String>,
    cells: Vec<Cell>,
    flagged: bool,
}

#[derive(Serialize)]
struct Table {
    id: String,
    caption: String,
    headers: Vec<Cell>,
    rows: Vec<Row>,
}

#[derive(Serialize)]
struct Figure {
    label: String,
    value: String,
    sub: String,
    id: &'static str,
}

/// One domain's information and SE chart.
#[derive(Serialize)]
struct Curve {
    domain: String,
    title: String,
    /// Paths in the chart's coordinates.
    information: String,
    se: String,
    bound_y: f64,
    precise: Vec<(f64, f64)>,
    info_ticks: Vec<(f64, String)>,
    se_ticks: Vec<(f64, String)>,
    theta_ticks: Vec<(f64, String)>,
    summary: String,
}

/// Chart geometry (SVG user units).
const W: f64 = 360.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 12.0;
const PANEL: f64 = 80.0;
const TOP_INFO: f64 = 22.0;
const TOP_SE: f64 = TOP_INFO + PANEL + 34.0;
const SE_MAX: f64 = 1.0;

fn x_of(theta: f64, range: (f64, f64)) -> f64 {
    LEFT + (theta - range.0) / (range.1 - range.0) * (W - LEFT - RIGHT)
}

fn path(points: impl Iterator<Item = (f64, f64)>) -> String {
    let mut out = String::new();
    for (k, (x, y)) in points.enumerate() {
        out.push_str(&format!("{}{x:.1},{y:.1}", if k == 0 { "M" } else { " L" }));
    }
    out
}

fn p_text(p: Option<f64>, lang: Lang) -> String {
    match p {
        Some(p) if p.is_finite() && p < 0.001 => format!("<{}", number(Some(0.001), 3, lang)),
        Some(p) => number(Some(p), 3, lang),
        None => "–".to_owned(),
    }
}

fn num(text: String) -> Cell {
    Cell {
        text,
        num: true,
        class: "",
    }
}

fn txt(text: impl Into<String>) -> Cell {
    Cell {
        text: text.into(),
        num: false,
        class: "",
    }
}

fn flag(mut cell: Cell, flagged: bool) -> Cell {
    if flagged {
        cell.class = "flag";
    }
    cell
}

fn headers(names: &[(&str, bool)]) -> Vec<Cell> {
    names
        .iter()
        .map(|(t, n)| Cell {
            text: (*t).to_owned(),
            num: *n,
            class: "",
        })
        .collect()
}

/// The words of a reason in `lang`.
fn reason_text(reason: &Reason, t: &BTreeMap<&str, &str>, lang: Lang) -> String {
    let key = format!("why_{}", reason.code);
    let template = t
        .get(key.as_str())
        .copied()
        .unwrap_or(t["why_model_failed"]);
    let have = reason
        .have
        .map(|n| integer(n as u64, lang))
        .unwrap_or_default();
    let need = reason
        .need
        .map(|n| integer(n as u64, lang))
        .unwrap_or_default();
    let item = reason.item.clone().unwrap_or_default();
    let group = reason.group.clone().unwrap_or_default();
    let mut text = fill(
        template,
        &[
            ("have", &have),
            ("need", &need),
            ("item", &item),
            ("group", &group),
        ],
    );
    if !item.is_empty() && !template.contains("{item}") {
        text.push_str(&format!(" ({} {item})", t["v_item"]));
    }
    text
}

fn review_text(r: &ReviewReason, t: &BTreeMap<&str, &str>, lang: Lang) -> String {
    let value = match r.code {
        "high_missing" => format!("{}%", number(Some(r.value * 100.0), 1, lang)),
        "misfit" => p_text(Some(r.value), lang),
        _ => number(Some(r.value), 2, lang),
    };
    let class = r.class.map(String::from).unwrap_or_default();
    let group = r.group.clone().unwrap_or_default();
    fill(
        t[format!("review_{}", r.code).as_str()],
        &[("value", &value), ("class", &class), ("group", &group)],
    )
}

#[derive(Serialize)]
struct Page {
    lang: &'static str,
    t: BTreeMap<&'static str, &'static str>,
    title: &'static str,
    subject: String,
    instrument: InstrumentView,
    version: &'static str,
    meta: Vec<(String, String)>,
    figures: Vec<Figure>,
    sample_table: Table,
    sample_note: String,
    reliability_table: Table,
    reliability_notes: Vec<String>,
    item_tables: Vec<Table>,
    dimensionality: Option<Table>,
    dimensionality_notes: Vec<String>,
    correlations: Option<Table>,
    dif_intro: Option<String>,
    dif_withheld: Option<String>,
    dif_tables: Vec<Table>,
    fit_withheld: Option<String>,
    m2_table: Option<Table>,
    sx2_tables: Vec<Table>,
    curves: Vec<Curve>,
    review: Table,
    rules: Vec<String>,
}

/// The validation report page of `report` (made for `instrument`) in `lang`.
pub fn validation_report(
    instrument: &Instrument,
    report: &ValidationReport,
    lang: Lang,
) -> Result<String, ReportError> {
    if report.instrument.sha256 != instrument.sha256 {
        return Err(ReportError::Mismatch {
            instrument: instrument.id.clone(),
            message: format!(
                "the validation report was computed for instrument '{}' {} (sha256 {})",
                report.instrument.id, report.instrument.version, report.instrument.sha256
            ),
        });
    }
    let t = texts(lang);
    let n = |x: Option<f64>, d: usize| number(x, d, lang);
    let domain_name = |code: &str| {
        instrument
            .domains
            .iter()
            .find(|d| d.code == code)
            .map_or_else(|| code.to_owned(), |d| d.name.get(lang).to_owned())
    };
    let why = |r: &Reason| reason_text(r, &t, lang);
    let sample = &report.sample;
    let rel = &report.reliability;
    let review_count = report.review.len();

    // Header and summary.
    let mut meta = vec![(
        t["v_respondents"].to_owned(),
        integer(sample.respondents as u64, lang),
    )];
    if let Some(g) = &sample.grouping {
        meta.push((t["v_grouping"].to_owned(), g.clone()));
    }
    if let Some(d) = report.dif.computed() {
        meta.push((t["v_reference"].to_owned(), d.reference.clone()));
    }
    meta.push((t["v_se_bound"].to_owned(), n(Some(report.se_bound), 2)));
    let part_value = |p: &Part<f64>| match p {
        Part::Computed(v) => (n(Some(*v), 2), String::new()),
        Part::Withheld(r) => ("–".to_owned(), why(r)),
    };
    let (strat, strat_sub) = part_value(&rel.stratified_alpha);
    let (omega, omega_sub) = part_value(&rel.omega_total);
    let structure = report.dimensionality.structure.computed();
    let figures = vec![
        Figure {
            label: t["v_respondents"].to_owned(),
            value: integer(sample.respondents as u64, lang),
            sub: fill(
                t["v_complete_cases"],
                &[("n", &integer(sample.complete_cases as u64, lang))],
            ),
            id: "fig-respondents",
        },
        Figure {
            label: t["v_stratified_alpha"].to_owned(),
            value: strat,
            sub: strat_sub,
            id: "fig-stratified-alpha",
        },
        Figure {
            label: t["v_omega_total"].to_owned(),
            value: omega,
            sub: omega_sub,
            id: "fig-omega-total",
        },
        Figure {
            label: t["v_cfi_structure"].to_owned(),
            value: structure.map_or("–".to_owned(), |c| n(Some(c.cfi), 3)),
            sub: structure.map_or(String::new(), |c| format!("RMSEA {}", n(Some(c.rmsea), 3))),
            id: "fig-cfi",
        },
        Figure {
            label: t["v_to_review"].to_owned(),
            value: integer(review_count as u64, lang),
            sub: fill(
                t["v_of_items"],
                &[("n", &integer(sample.items.len() as u64, lang))],
            ),
            id: "fig-review",
        },
    ];

    // Sample: groups.
    let sample_table = Table {
        id: "groups".into(),
        caption: t["v_groups_caption"].to_owned(),
        headers: headers(&[
            (t["v_group"], false),
            (t["v_respondents"], true),
            ("%", true),
        ]),
        rows: sample
            .groups
            .iter()
            .map(|g| Row {
                item: None,
                cells: vec![
                    txt(g.name.clone()),
                    num(integer(g.respondents as u64, lang)),
                    num(n(
                        Some(100.0 * g.respondents as f64 / sample.respondents as f64),
                        1,
                    )),
                ],
                flagged: false,
            })
            .chain((sample.ungrouped > 0).then(|| Row {
                item: None,
                cells: vec![
                    txt(t["v_ungrouped"]),
                    num(integer(sample.ungrouped as u64, lang)),
                    num(n(
                        Some(100.0 * sample.ungrouped as f64 / sample.respondents as f64),
                        1,
                    )),
                ],
                flagged: false,
            }))
            .collect(),
    };
    let sample_note = if sample.grouping.is_some() {
        t["v_sample_note"].to_owned()
    } else {
        t["v_sample_no_groups"].to_owned()
    };

    // Reliability per domain and of the index.
    let mut reliability_notes = Vec::new();
    let mut rows: Vec<Row> = rel
        .domains
        .iter()
        .map(|d| {
            for w in &d.withheld {
                let what = t
                    .get(format!("stat_{}", w.statistic).as_str())
                    .copied()
                    .unwrap_or(w.statistic);
                reliability_notes.push(format!(
                    "{} — {}: {}",
                    domain_name(&d.domain),
                    what,
                    why(&w.reason)
                ));
            }
            Row {
                item: None,
                cells: vec![
                    txt(domain_name(&d.domain)),
                    num(integer(d.respondents as u64, lang)),
                    num(integer(d.items.len() as u64, lang)),
                    num(n(d.alpha, 2)),
                    num(d.alpha_interval.map_or("–".to_owned(), |i| {
                        format!("{}–{}", n(Some(i.lower), 2), n(Some(i.upper), 2))
                    })),
                    num(n(d.omega, 2)),
                ],
                flagged: false,
            }
        })
        .collect();
    rows.push(Row {
        item: None,
        cells: vec![
            txt(t["v_index"]),
            num(integer(sample.respondents as u64, lang)),
            num(integer(sample.items.len() as u64, lang)),
            num(rel
                .stratified_alpha
                .computed()
                .map_or("–".into(), |a| n(Some(*a), 2))),
            num("–".into()),
            num(rel
                .omega_total
                .computed()
                .map_or("–".into(), |a| n(Some(*a), 2))),
        ],
        flagged: false,
    });
    if let Part::Withheld(r) = &rel.stratified_alpha {
        reliability_notes.push(format!("{}: {}", t["v_stratified_alpha"], why(r)));
    }
    if let Part::Withheld(r) = &rel.omega_total {
        reliability_notes.push(format!("{}: {}", t["v_omega_total"], why(r)));
    }
    let reliability_table = Table {
        id: "reliability-table".into(),
        caption: t["v_reliability_caption"].to_owned(),
        headers: headers(&[
            (t["domain"], false),
            (t["v_respondents"], true),
            (t["v_items"], true),
            ("α", true),
            (t["v_alpha_ci"], true),
            ("ω", true),
        ]),
        rows,
    };

    // Item tables per domain: missing, item–rest r, loading, misfit, DIF.
    let loading: BTreeMap<&str, f64> = structure
        .map(|c| {
            c.loadings
                .iter()
                .map(|l| (l.item.as_str(), l.standardized))
                .collect()
        })
        .unwrap_or_default();
    let rules = &report.rules;
    let item_tables = rel
        .domains
        .iter()
        .map(|d| Table {
            id: format!("items-{}", d.domain),
            caption: format!("{} — {}", t["v_items_caption"], domain_name(&d.domain)),
            headers: headers(&[
                (t["v_item"], false),
                (t["v_kind"], false),
                (t["v_missing"], true),
                (t["v_mean"], true),
                (t["v_item_rest"], true),
                (t["v_alpha_if_deleted"], true),
                (t["v_loading"], true),
            ]),
            rows: d
                .items
                .iter()
                .map(|it| {
                    let s = sample.items.iter().find(|s| s.id == it.item);
                    let missing = s.map_or(f64::NAN, |s| s.missing_rate);
                    let l = loading.get(it.item.as_str()).copied();
                    let flagged = report.review.iter().any(|r| r.item == it.item);
                    Row {
                        item: Some(it.item.clone()),
                        cells: vec![
                            txt(it.item.clone()),
                            txt(s.map_or(String::new(), |s| s.kind.clone())),
                            flag(
                                num(format!("{}%", n(Some(missing * 100.0), 1))),
                                missing > rules.max_missing,
                            ),
                            num(n(s.and_then(|s| s.mean), 2)),
                            flag(
                                num(n(it.item_rest, 2)),
                                it.item_rest.is_some_and(|r| r < rules.min_item_rest),
                            ),
                            num(n(it.alpha_if_deleted, 2)),
                            flag(num(n(l, 2)), l.is_some_and(|l| l < rules.min_loading)),
                        ],
                        flagged,
                    }
                })
                .collect(),
        })
        .collect();

    // Dimensionality.
    let dim = &report.dimensionality;
    let mut dimensionality_notes = vec![fill(
        t["v_cfa_sample"],
        &[("n", &integer(dim.complete_cases as u64, lang))],
    )];
    for (name, part) in [
        (t["v_model_structure"], &dim.structure),
        (t["v_model_one"], &dim.one_factor),
    ] {
        match part {
            Part::Withheld(r) => dimensionality_notes.push(format!("{name}: {}", why(r))),
            Part::Computed(c) => {
                if !c.converged {
                    dimensionality_notes.push(format!("{name}: {}", t["v_not_converged"]));
                }
                for h in &c.heywood {
                    dimensionality_notes.push(format!(
                        "{name}: {} ({}, {})",
                        t["v_heywood"],
                        h.at,
                        n(Some(h.value), 3)
                    ));
                }
            }
        }
    }
    let models: Vec<Option<&CfaFit>> = vec![dim.structure.computed(), dim.one_factor.computed()];
    let dimensionality = models.iter().any(Option::is_some).then(|| {
        let row = |label: &str, f: &dyn Fn(&CfaFit) -> String| Row {
            item: None,
            cells: std::iter::once(txt(label))
                .chain(models.iter().map(|m| num(m.map_or("–".into(), f))))
                .collect(),
            flagged: false,
        };
        Table {
            id: "fit-table".into(),
            caption: t["v_fit_caption"].to_owned(),
            headers: headers(&[
                (t["v_measure"], false),
                (t["v_model_structure"], true),
                (t["v_model_one"], true),
            ]),
            rows: vec![
                row("χ²", &|c| n(Some(c.chi_square), 1)),
                row("df", &|c| integer(c.df.max(0) as u64, lang)),
                row("p", &|c| p_text(c.p_value, lang)),
                row("CFI", &|c| n(Some(c.cfi), 3)),
                row("TLI", &|c| n(c.tli, 3)),
                row("RMSEA", &|c| n(Some(c.rmsea), 3)),
                row(t["v_rmsea_ci"], &|c| {
                    c.rmsea_interval.map_or("–".into(), |i| {
                        format!("{}–{}", n(Some(i.lower), 3), n(Some(i.upper), 3))
                    })
                }),
                row("SRMR", &|c| n(Some(c.srmr), 3)),
            ],
        }
    });
    let correlations = structure.map(|c| Table {
        id: "factor-correlations".into(),
        caption: t["v_correlations_caption"].to_owned(),
        headers: std::iter::once(txt(t["domain"]))
            .chain(
                c.factors
                    .iter()
                    .enumerate()
                    .map(|(k, _)| num(format!("{}", k + 1))),
            )
            .collect(),
        rows: c
            .factors
            .iter()
            .enumerate()
            .map(|(f, name)| Row {
                item: None,
                cells: std::iter::once(txt(format!("{} {}", f + 1, domain_name(name))))
                    .chain(c.factor_correlations[f].iter().map(|&r| num(n(Some(r), 2))))
                    .collect(),
                flagged: false,
            })
            .collect(),
    });

    // DIF.
    let (dif_intro, dif_withheld, dif_tables) = match &report.dif {
        Part::Withheld(r) => (None, Some(why(r)), Vec::new()),
        Part::Computed(d) => {
            let intro = fill(
                t["v_dif_intro"],
                &[
                    ("grouping", &d.grouping),
                    ("reference", &d.reference),
                    ("focal", &d.focal.join(", ")),
                    ("min", &integer(d.min_group as u64, lang)),
                ],
            );
            let tables = d
                .domains
                .iter()
                .map(|dd| {
                    let mut hs = vec![(t["v_item"], false), (t["v_method"], false)];
                    hs.extend(d.focal.iter().map(|f| (f.as_str(), true)));
                    hs.push((t["v_lr_result"], true));
                    Table {
                        id: format!("dif-{}", dd.domain),
                        caption: format!(
                            "{} — {} ({})",
                            t["v_dif_caption"],
                            domain_name(&dd.domain),
                            fill(
                                t["v_persons_used"],
                                &[("n", &integer(dd.persons_used as u64, lang))]
                            )
                        ),
                        headers: headers(&hs),
                        rows: dd
                            .items
                            .iter()
                            .map(|it| {
                                let mut cells = vec![
                                    txt(it.item.clone()),
                                    txt(if it.method == "mantel_haenszel" {
                                        "MH"
                                    } else {
                                        t["v_logistic"]
                                    }),
                                ];
                                for f in &d.focal {
                                    let c = it.comparisons.iter().find(|c| &c.focal == f);
                                    cells.push(match c.map(|c| &c.result) {
                                        Some(Part::Computed(r)) => flag(
                                            num(format!("Δ {} · {}", n(Some(r.delta), 2), r.class)),
                                            r.class != 'A' && r.p_adjusted < rules.dif_p,
                                        ),
                                        Some(Part::Withheld(r)) => txt(why(r)),
                                        None => num("".into()),
                                    });
                                }
                                cells.push(match &it.logistic {
                                    Some(Part::Computed(r)) => flag(
                                        num(format!(
                                            "ΔR² {} · p {} · {}",
                                            n(Some(r.delta_r2), 3),
                                            p_text(Some(r.p_adjusted), lang),
                                            r.class
                                        )),
                                        it.flagged,
                                    ),
                                    Some(Part::Withheld(r)) => txt(why(r)),
                                    None => num("".into()),
                                });
                                Row {
                                    item: Some(it.item.clone()),
                                    cells,
                                    flagged: it.flagged,
                                }
                            })
                            .collect(),
                    }
                })
                .collect();
            (Some(intro), None, tables)
        }
    };

    // Item fit and information.
    let (fit_withheld, m2_table, sx2_tables, curves) = match &report.item_fit {
        Part::Withheld(r) => (Some(why(r)), None, Vec::new(), Vec::new()),
        Part::Computed(fit) => {
            let m2 = Table {
                id: "m2-table".into(),
                caption: t["v_m2_caption"].to_owned(),
                headers: headers(&[
                    (t["domain"], false),
                    ("M2*", true),
                    ("df", true),
                    ("p", true),
                    ("RMSEA", true),
                    (t["v_rmsea_ci"], true),
                    ("SRMSR", true),
                    ("CFI", true),
                ]),
                rows: fit
                    .domains
                    .iter()
                    .map(|d| Row {
                        item: None,
                        cells: match &d.m2 {
                            Part::Computed(m) => vec![
                                txt(domain_name(&d.domain)),
                                num(n(Some(m.statistic), 1)),
                                num(integer(m.df as u64, lang)),
                                num(p_text(Some(m.p_value), lang)),
                                num(n(Some(m.rmsea), 3)),
                                num(format!(
                                    "{}–{}",
                                    n(Some(m.rmsea_lower), 3),
                                    n(Some(m.rmsea_upper), 3)
                                )),
                                num(n(Some(m.srmsr), 3)),
                                num(n(m.cfi, 3)),
                            ],
                            Part::Withheld(r) => vec![txt(domain_name(&d.domain)), txt(why(r))],
                        },
                        flagged: false,
                    })
                    .collect(),
            };
            let sx2 = fit
                .domains
                .iter()
                .map(|d| Table {
                    id: format!("sx2-{}", d.domain),
                    caption: format!("S-X² — {}", domain_name(&d.domain)),
                    headers: headers(&[
                        (t["v_item"], false),
                        (t["v_categories"], true),
                        ("S-X²", true),
                        ("df", true),
                        ("p", true),
                        (t["v_p_adjusted"], true),
                        ("RMSEA", true),
                    ]),
                    rows: match &d.items {
                        Part::Computed(items) => items
                            .iter()
                            .map(|s| Row {
                                item: Some(s.item.clone()),
                                cells: vec![
                                    txt(s.item.clone()),
                                    num(integer(s.categories as u64, lang)),
                                    num(n(s.s_x2, 1)),
                                    num(integer(s.df as u64, lang)),
                                    num(p_text(s.p_value, lang)),
                                    flag(num(p_text(s.p_adjusted, lang)), s.flagged),
                                    flag(num(n(Some(s.rmsea), 3)), s.flagged),
                                ],
                                flagged: s.flagged,
                            })
                            .collect(),
                        Part::Withheld(r) => vec![Row {
                            item: None,
                            cells: vec![txt(why(r))],
                            flagged: false,
                        }],
                    },
                })
                .collect();
            let curves = fit
                .domains
                .iter()
                .map(|d| {
                    curve(
                        &domain_name(&d.domain),
                        &d.domain,
                        &d.information,
                        report.se_bound,
                        &t,
                        lang,
                    )
                })
                .collect();
            (None, Some(m2), sx2, curves)
        }
    };

    // Review list and rules.
    let review = Table {
        id: "review-table".into(),
        caption: t["v_review_caption"].to_owned(),
        headers: headers(&[
            (t["v_item"], false),
            (t["domain"], false),
            (t["v_text"], false),
            (t["v_reasons"], false),
        ]),
        rows: report
            .review
            .iter()
            .map(|r| Row {
                item: Some(r.item.clone()),
                cells: vec![
                    txt(r.item.clone()),
                    txt(domain_name(&r.domain)),
                    txt(instrument
                        .items
                        .iter()
                        .find(|i| i.id == r.item)
                        .map_or(String::new(), |i| i.text.get(lang).to_owned())),
                    txt(r
                        .reasons
                        .iter()
                        .map(|x| review_text(x, &t, lang))
                        .collect::<Vec<_>>()
                        .join("; ")),
                ],
                flagged: true,
            })
            .collect(),
    };
    let rule_values = [
        ("misfit_p", n(Some(rules.misfit_p), 2)),
        ("misfit_rmsea", n(Some(rules.misfit_rmsea), 2)),
        ("dif_p", n(Some(rules.dif_p), 2)),
        ("min_item_rest", n(Some(rules.min_item_rest), 2)),
        ("min_loading", n(Some(rules.min_loading), 2)),
        (
            "max_missing",
            format!("{}%", n(Some(rules.max_missing * 100.0), 0)),
        ),
    ];
    let values: Vec<(&str, &str)> = rule_values.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let rules_text = [
        "rule_misfit",
        "rule_dif",
        "rule_item_rest",
        "rule_loading",
        "rule_missing",
    ]
    .iter()
    .map(|k| fill(t[k], &values))
    .collect();

    let page = Page {
        lang: lang.code(),
        title: t["title_validation"],
        subject: format!("{} {}", instrument.id, instrument.version),
        instrument: InstrumentView::new(instrument, lang),
        version: env!("CARGO_PKG_VERSION"),
        meta,
        figures,
        sample_table,
        sample_note,
        reliability_table,
        reliability_notes,
        item_tables,
        dimensionality,
        dimensionality_notes,
        correlations,
        dif_intro,
        dif_withheld,
        dif_tables,
        fit_withheld,
        m2_table,
        sx2_tables,
        curves,
        review,
        rules: rules_text,
        t,
    };
    render("validation.html", &page)
}

/// The information (top) and SE (bottom) panels of one domain.
fn curve(
    name: &str,
    code: &str,
    info: &Information,
    bound: f64,
    t: &BTreeMap<&str, &str>,
    lang: Lang,
) -> Curve {
    let range = (
        info.theta.first().copied().unwrap_or(-4.0),
        info.theta.last().copied().unwrap_or(4.0),
    );
    // The information axis: up to a round number above the maximum.
    let top = {
        let m = info.max_information.max(1e-9);
        let step = 10f64.powf(m.log10().floor());
        ((m / step).ceil() * step).max(step)
    };
    let info_y = |i: f64| TOP_INFO + PANEL - (i / top).clamp(0.0, 1.0) * PANEL;
    let se_y = |s: f64| TOP_SE + PANEL - (s / SE_MAX).clamp(0.0, 1.0) * PANEL;
    let information = path(
        info.theta
            .iter()
            .zip(&info.test)
            .map(|(&th, &i)| (x_of(th, range), info_y(i))),
    );
    let se = path(
        info.theta
            .iter()
            .zip(&info.se)
            .map(|(&th, &s)| (x_of(th, range), se_y(s))),
    );
    let precise: Vec<(f64, f64)> = info
        .precise
        .iter()
        .map(|&(a, b)| (x_of(a, range), x_of(b, range)))
        .collect();
    let ranges = if info.precise.is_empty() {
        t["v_no_precise"].to_owned()
    } else {
        info.precise
            .iter()
            .map(|&(a, b)| {
                format!(
                    "{} … {}",
                    number(Some(a), 1, lang),
                    number(Some(b), 1, lang)
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let summary = fill(
        t["v_curve_summary"],
        &[
            ("bound", &number(Some(bound), 2, lang)),
            ("ranges", &ranges),
            ("max", &number(Some(info.max_information), 1, lang)),
            ("at", &number(Some(info.theta_at_max), 1, lang)),
        ],
    );
    Curve {
        domain: code.to_owned(),
        title: format!("{} — {}", t["v_curve_title"], name),
        information,
        se,
        bound_y: se_y(bound),
        precise,
        info_ticks: [0.0, top / 2.0, top]
            .iter()
            .map(|&v| {
                let decimals = if (top / 2.0).fract() == 0.0 { 0 } else { 1 };
                (info_y(v), number(Some(v), decimals, lang))
            })
            .collect(),
        se_ticks: [0.0, 0.5, 1.0]
            .iter()
            .map(|&v| (se_y(v), number(Some(v), 1, lang)))
            .collect(),
        theta_ticks: (-4..=4)
            .step_by(2)
            .map(|v| (x_of(v as f64, range), number(Some(v as f64), 0, lang)))
            .collect(),
        summary,
    }
}
