//! What must hold after the kills: every acknowledged write in the store and over gRPC, no half-written result.

use super::*;

/// What a stored result lacks to be complete, or how it differs from the acknowledged one.
pub(super) fn result_problems(
    stored: &StoredResult,
    acked: Option<&api::Result>,
    domain_codes: &[String],
    sha256: &str,
) -> Vec<String> {
    let mut problems = Vec::new();
    let mut problem = |p: String| problems.push(p);
    if stored.revision != 1 {
        problem(format!("revision {} instead of 1", stored.revision));
    }
    match stored.index {
        Some(i) if i.is_finite() && (0.0..=100.0).contains(&i) => {}
        other => problem(format!("index {other:?}")),
    }
    if stored.level.as_deref().is_none_or(str::is_empty) {
        problem("no level".into());
    }
    if stored.model.is_empty() || stored.model_version.is_empty() {
        problem("no model or model version".into());
    }
    let codes: Vec<String> = stored.domains.iter().map(|d| d.code.clone()).collect();
    if codes != domain_codes {
        problem(format!("domains {codes:?}, expected {domain_codes:?}"));
    }
    for d in &stored.domains {
        if d.answered == 0 || d.score.is_some_and(|s| !(0.0..=100.0).contains(&s)) {
            problem(format!("domain {d:?}"));
        }
    }
    match serde_json::from_str::<serde_json::Value>(&stored.provenance_json) {
        Ok(p) if p.is_object() && stored.provenance_json.contains(sha256) => {}
        _ => problem(format!(
            "provenance is not a JSON object naming the instrument's sha256: {:?}",
            stored.provenance_json
        )),
    }
    if let Some(acked) = acked {
        let close = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (None, None) => true,
            (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * a.abs().max(1.0),
            _ => false,
        };
        if !close(stored.index, acked.index) || !close(stored.index_se, acked.index_se) {
            problem(format!(
                "index {:?} ± {:?}, acknowledged {:?} ± {:?}",
                stored.index, stored.index_se, acked.index, acked.index_se
            ));
        }
        let acked_level = acked.level.as_ref().map(|l| l.code.as_str());
        if stored.level.as_deref() != acked_level {
            problem(format!(
                "level {:?}, acknowledged {acked_level:?}",
                stored.level
            ));
        }
        if stored.flags != acked.flags {
            problem(format!(
                "flags {:?}, acknowledged {:?}",
                stored.flags, acked.flags
            ));
        }
        let same_domains = stored.domains.len() == acked.domains.len()
            && stored.domains.iter().zip(&acked.domains).all(|(s, a)| {
                s.code == a.code
                    && close(s.score, a.score)
                    && close(s.se, a.se)
                    && s.level.as_deref() == a.level.as_ref().map(|l| l.code.as_str())
                    && s.answered == a.answered
            });
        if !same_domains {
            problem(format!(
                "domains {:?}, acknowledged {:?}",
                stored.domains, acked.domains
            ));
        }
    }
    problems
}

/// Checks every acknowledged write directly in the store (the server stopped). Returns the
/// number of checks made; every failed check is pushed to `problems`.
pub(super) async fn verify_store(
    backend: &str,
    store: &Arc<dyn Store>,
    ledgers: &[Ledger],
    domain_codes: &[String],
    problems: &mut Vec<String>,
) -> u64 {
    let mut checks = 0u64;
    let mut check = |ok: bool, problem: &dyn Fn() -> String, problems: &mut Vec<String>| {
        checks += 1;
        if !ok {
            problems.push(format!("{backend}: {}", problem()));
        }
    };
    let mut pseudonyms: HashMap<usize, String> = HashMap::new();
    let mut submitted_ids = BTreeSet::new();
    let mut version = String::new();
    for l in ledgers {
        let id = &l.session_id;
        version.clone_from(&l.instrument_version);
        let session = store.session(id).await.expect("reading a session");
        check(
            session.is_some(),
            &|| format!("acknowledged session {id} (client {}) is missing", l.client),
            problems,
        );
        let Some(session) = session else { continue };
        check(
            session.instrument_id == INSTRUMENT
                && session.instrument_version == l.instrument_version
                && session.org_unit == l.org_unit,
            &|| format!("session {id}: instrument or org unit differ: {session:?}"),
            problems,
        );
        let key = pseudonyms
            .entry(l.client)
            .or_insert_with(|| session.respondent_key.clone());
        check(
            *key == session.respondent_key && !key.is_empty(),
            &|| {
                format!(
                    "session {id}: respondent key {} differs from the same respondent's {key} \
                     (the pseudonym key changed across restarts?)",
                    session.respondent_key
                )
            },
            problems,
        );
        let stored: BTreeMap<String, String> = session.answers.iter().cloned().collect();
        for (item, value) in &l.answers {
            check(
                stored.get(item) == Some(value),
                &|| {
                    let save = l
                        .saves
                        .iter()
                        .rev()
                        .find(|s| s.answers.iter().any(|(i, _)| i == item))
                        .map(|s| s.request_id.as_str())
                        .unwrap_or("?");
                    format!(
                        "session {id}: item {item} acknowledged as {value:?} (save '{save}'), \
                         stored {:?}",
                        stored.get(item)
                    )
                },
                problems,
            );
        }
        check(
            stored.len() == l.answers.len(),
            &|| {
                let extra: Vec<_> = stored
                    .keys()
                    .filter(|k| !l.answers.contains_key(*k))
                    .collect();
                format!("session {id}: stored answers never acknowledged: {extra:?}")
            },
            problems,
        );
        let revisions = store
            .result_revisions(id)
            .await
            .expect("reading result revisions");
        let latest = store.latest_result(id).await.expect("reading a result");
        match &l.submit {
            Submit::No => {
                check(
                    session.state == SessionState::Open && session.submitted_at.is_none(),
                    &|| {
                        format!(
                            "session {id} was never submitted but is {:?}",
                            session.state
                        )
                    },
                    problems,
                );
                check(
                    revisions.is_empty() && latest.is_none(),
                    &|| {
                        format!(
                            "open session {id} has {} result revisions (half-written submit)",
                            revisions.len()
                        )
                    },
                    problems,
                );
            }
            Submit::Acked(_) | Submit::AckLost => {
                submitted_ids.insert(id.clone());
                let acked = match &l.submit {
                    Submit::Acked(r) => Some(r.as_ref()),
                    _ => None,
                };
                check(
                    session.state == SessionState::Submitted && session.submitted_at.is_some(),
                    &|| {
                        format!(
                            "session {id}: submit {} but the session is {:?}",
                            if acked.is_some() {
                                "acknowledged"
                            } else {
                                "committed"
                            },
                            session.state
                        )
                    },
                    problems,
                );
                check(
                    revisions.len() == 1,
                    &|| {
                        format!(
                            "submitted session {id} has {} result revisions",
                            revisions.len()
                        )
                    },
                    problems,
                );
                check(
                    latest.is_some(),
                    &|| format!("submitted session {id} has no latest result"),
                    problems,
                );
                for r in revisions.iter().chain(latest.as_ref()) {
                    let found = result_problems(r, acked, domain_codes, &session.instrument_sha256);
                    check(
                        found.is_empty() && r.session_id == *id && r.org_unit == l.org_unit,
                        &|| format!("session {id}: result revision {}: {found:?}", r.revision),
                        problems,
                    );
                }
                if let (Some(r), Some(at)) = (&latest, session.submitted_at) {
                    check(
                        r.submitted_at == at,
                        &|| {
                            format!(
                                "session {id}: submitted_at {at} vs result {}",
                                r.submitted_at
                            )
                        },
                        problems,
                    );
                }
            }
        }
    }

    // The other way round: everything submitted in the store is a submit of the ledger.
    let mut after = None;
    let mut in_store = BTreeSet::new();
    // Each client is one respondent taking session after session: their latest take.
    let mut latest_takes: HashMap<String, (i64, String)> = HashMap::new();
    loop {
        let page = store
            .submitted_sessions(INSTRUMENT, &version, after.clone(), 1000)
            .await
            .expect("listing submitted sessions");
        let Some(last) = page.last() else { break };
        after = Some(last.id.clone());
        for s in page {
            let take = (s.submitted_at.unwrap_or(i64::MIN), s.id.clone());
            let latest = latest_takes.entry(s.respondent_key).or_default();
            *latest = std::mem::take(latest).max(take);
            in_store.insert(s.id);
        }
    }
    check(
        in_store == submitted_ids,
        &|| {
            format!(
                "submitted sessions in the store but not submitted by a client: {:?}; \
                 submitted by a client but not in the store: {:?}",
                in_store.difference(&submitted_ids).collect::<Vec<_>>(),
                submitted_ids.difference(&in_store).collect::<Vec<_>>()
            )
        },
        problems,
    );
    let mut after = None;
    let mut with_result = BTreeSet::new();
    loop {
        let page = store
            .results_page(&ResultFilter::default(), after.clone(), 1000)
            .await
            .expect("listing results");
        let Some(last) = page.last() else { break };
        after = Some(last.cursor());
        with_result.extend(page.into_iter().map(|r| r.session_id));
    }
    // Result pages hold one result per respondent, their latest take; the earlier takes'
    // results were checked above, session by session.
    let counting: BTreeSet<String> = latest_takes.into_values().map(|(_, id)| id).collect();
    check(
        with_result == counting,
        &|| {
            format!(
                "results listed that are not a respondent's latest submit: {:?}; latest \
                 submits not listed: {:?}",
                with_result.difference(&counting).collect::<Vec<_>>(),
                counting.difference(&with_result).collect::<Vec<_>>()
            )
        },
        problems,
    );

    // Every acknowledged save's request id is still known: its replay changes nothing.
    for l in ledgers {
        for save in &l.saves {
            let outcome = store
                .save_answers(&l.session_id, &save.request_id, &save.answers)
                .await;
            check(
                matches!(outcome, Ok(o) if o.replayed),
                &|| {
                    format!(
                        "session {}: replaying acknowledged save '{}' was not a no-op: {outcome:?}",
                        l.session_id, save.request_id
                    )
                },
                problems,
            );
        }
        let after = store
            .session(&l.session_id)
            .await
            .expect("reading a session");
        let answers: Option<BTreeMap<String, String>> =
            after.map(|s| s.answers.into_iter().collect());
        check(
            answers.as_ref() == Some(&l.answers),
            &|| format!("session {}: answers changed by replays", l.session_id),
            problems,
        );
    }
    checks
}

/// Checks the results through the restarted server: `GetResult` of every submitted session
/// equals the acknowledged result; an open session has none.
pub(super) async fn verify_grpc(
    backend: &str,
    shared: Arc<Shared>,
    ledgers: &[Ledger],
    problems: &mut Vec<String>,
) -> u64 {
    let mut client = Client::new(shared);
    let mut checks = 0;
    for l in ledgers {
        let request = api::GetResultRequest {
            session_id: l.session_id.clone(),
            language: "en".into(),
        };
        let got = client
            .call("GetResult", |mut c| {
                let r = authorized(request.clone());
                async move { c.get_result(r).await }
            })
            .await;
        checks += 1;
        let problem = match (&l.submit, got) {
            (Submit::No, Err((s, _))) if s.code() == Code::FailedPrecondition => None,
            (Submit::No, other) => Some(format!("open session: GetResult answered {other:?}")),
            (Submit::Acked(acked), Ok((r, _))) => {
                let same = r.revision == 1
                    && r.org_unit == l.org_unit
                    && r.result.as_ref().is_some_and(|got| {
                        got.index == acked.index
                            && got.level == acked.level
                            && got.flags == acked.flags
                            && got.domains.len() == acked.domains.len()
                            && got.domains.iter().zip(&acked.domains).all(|(g, a)| {
                                g.code == a.code
                                    && g.score == a.score
                                    && g.level == a.level
                                    && g.answered == a.answered
                            })
                    });
                (!same).then(|| format!("GetResult {r:?} differs from the acknowledged {acked:?}"))
            }
            (Submit::AckLost, Ok((r, _))) => (r.revision != 1
                || r.result.as_ref().is_none_or(|r| r.index.is_none()))
            .then(|| format!("GetResult of a committed submit: {r:?}")),
            (_, Err((s, _))) => Some(format!("submitted session: GetResult failed: {s:?}")),
        };
        if let Some(p) = problem {
            problems.push(format!("{backend}: session {}: {p}", l.session_id));
        }
    }
    checks
}
