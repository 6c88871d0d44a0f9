//! The in-memory half of a set-based batch (see [`crate::set_batch`]): every write of the
//! batch checked in order against what the batch read of its sessions under their locks,
//! exactly as the per-write path checks it against the rows, and the rows that the accepted
//! writes leave behind, gathered per table so that a few statements write them all.
//!
//! Why in memory: the per-write path spends most of its time on statements that each read
//! or write a few rows; with everything the checks need read at once, the decisions are
//! plain Rust, and writes of one batch that touch the same session (a save then a submit,
//! two saves, a replay of a request applied earlier in the batch) see each other as they
//! would one after another.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::group_commit::{Done, Write};
use crate::packed;
use crate::results::submit_refusal;
use crate::sessions::{
    SessionRow, cells_of_map, merge_save, parse_state, reused_request, same_cells, stored,
    unpack_answers,
};
use crate::{NewResult, SaveOutcome, Session, SessionState, StoreError};

/// What a batch read before deciding, under the locks of its sessions.
#[derive(Default)]
pub(crate) struct Known {
    /// The batch's existing sessions, by id (absent: not found).
    pub sessions: HashMap<String, SessionRow>,
    /// The latest answers of the batch's sessions, packed (see [`crate::packed`]; absent:
    /// none).
    pub answers: HashMap<String, String>,
    /// The batch's requests already applied before it, with their cells, packed.
    pub applied: HashMap<(String, String), String>,
}

/// An applied save: its session, request, time and answers in request order.
pub(crate) struct SaveRow<'a> {
    pub session_id: &'a str,
    pub request_id: &'a str,
    pub at: i64,
    pub answers: &'a [(String, String)],
}

/// A submit that stores its result: session, time, result.
pub(crate) struct SubmitRow<'a> {
    pub session_id: &'a str,
    pub at: i64,
    pub result: &'a NewResult,
}

/// A person (respondent key, instrument id, instrument version) whose latest session may
/// have changed: the re-taking rule is applied to each once the batch's submits are in.
pub(crate) type Person = (String, String, String);

/// The outcome of every write of a batch, and what the accepted ones write.
#[derive(Default)]
pub(crate) struct Plan<'a> {
    pub outcomes: Vec<Result<Done, StoreError>>,
    pub starts: Vec<&'a Session>,
    pub saves: Vec<SaveRow<'a>>,
    /// The latest answers, packed, of each session an applied save changed, as after the
    /// batch.
    pub answers: BTreeMap<&'a str, String>,
    /// Sessions saved or submitted, as they are after the batch.
    pub sessions: BTreeMap<&'a str, SessionRow>,
    pub submits: Vec<SubmitRow<'a>>,
    pub persons: BTreeSet<Person>,
}

/// The plan of `batch` from what was read; `None` when the set-based path must not decide
/// it: one person's sessions submitted twice in the batch (the per-write path applies the
/// re-taking rule after each, and each superseded session keeps the first session that
/// superseded it), or a session submitted in the batch that starts it (its person was not
/// locked with the others: the session was not there yet).
pub(crate) fn plan(batch: &[Write], mut known: Known) -> Option<Plan<'_>> {
    let mut plan = Plan::default();
    let started: HashSet<&str> = plan_starts(batch);
    // Requests applied in this batch, with their answers.
    let mut applied_here: HashMap<(&str, &str), &[(String, String)]> = HashMap::new();
    // The latest answers of the sessions saved in this batch, as its saves leave them.
    let mut latest: HashMap<&str, BTreeMap<String, String>> = HashMap::new();
    for write in batch {
        let outcome = match write {
            Write::Start { session, .. } => {
                known
                    .sessions
                    .insert(session.id.clone(), SessionRow::of(session));
                plan.starts.push(session);
                Ok(Done::Started)
            }
            Write::Save {
                session_id,
                request_id,
                answers,
                at,
                ..
            } => save(
                &mut plan,
                &mut known,
                &mut applied_here,
                &mut latest,
                SaveRow {
                    session_id,
                    request_id,
                    at: *at,
                    answers,
                },
            ),
            Write::Submit {
                session_id,
                answers_version,
                result,
                at,
                ..
            } => match known.sessions.get_mut(session_id.as_str()) {
                Some(_) if started.contains(session_id.as_str()) => return None,
                Some(row) if row.state == "open" && row.answers_version == *answers_version => {
                    row.state = "submitted".to_owned();
                    row.submitted_at = Some(*at);
                    let person = (
                        row.respondent_key.clone(),
                        row.instrument_id.clone(),
                        row.instrument_version.clone(),
                    );
                    if !plan.persons.insert(person) {
                        return None;
                    }
                    plan.sessions.insert(session_id, row.clone());
                    plan.submits.push(SubmitRow {
                        session_id,
                        at: *at,
                        result,
                    });
                    Ok(Done::Submitted(Box::new(row.clone()), Vec::new()))
                }
                found => Err(submit_refusal(
                    session_id,
                    *answers_version,
                    found.map(|row| (row.state.clone(), row.answers_version)),
                )),
            },
        };
        plan.outcomes.push(outcome);
    }
    plan.answers = latest
        .into_iter()
        .map(|(session, answers)| (session, packed::pack(cells_of_map(&answers))))
        .collect();
    Some(plan)
}

/// A save, as `Sessions::save_in` decides it: not found; a request applied already (before
/// or earlier in the batch) is a replay, or a conflict with other answers; a submitted
/// session refuses new requests; else applied.
fn save<'a>(
    plan: &mut Plan<'a>,
    known: &mut Known,
    applied_here: &mut HashMap<(&'a str, &'a str), &'a [(String, String)]>,
    latest: &mut HashMap<&'a str, BTreeMap<String, String>>,
    save: SaveRow<'a>,
) -> Result<Done, StoreError> {
    let SaveRow {
        session_id,
        request_id,
        ..
    } = save;
    let Some(row) = known.sessions.get_mut(session_id) else {
        return Err(StoreError::NotFound {
            what: "session",
            id: session_id.to_owned(),
        });
    };
    let read = known.answers.get(session_id).map_or("", String::as_str);
    let same = match applied_here.get(&(session_id, request_id)) {
        Some(answers) => Some(*answers == save.answers),
        None => known
            .applied
            .get(&(session_id.to_owned(), request_id.to_owned()))
            .map(|cells| same_cells(cells, save.answers)),
    };
    if let Some(same) = same {
        if !same {
            return Err(reused_request(session_id, request_id));
        }
        let items = match latest.get(session_id) {
            Some(answers) => answers.len(),
            None => packed::count(read),
        };
        return Ok(Done::Saved(SaveOutcome {
            replayed: true,
            answers_stored: stored(items),
        }));
    }
    if parse_state(session_id, &row.state)? == SessionState::Submitted {
        return Err(StoreError::Submitted {
            session: session_id.to_owned(),
        });
    }
    let answers = match latest.entry(session_id) {
        Entry::Occupied(answers) => answers.into_mut(),
        Entry::Vacant(entry) => entry.insert(unpack_answers(session_id, read)?),
    };
    merge_save(answers, save.answers);
    row.answers_version += 1;
    plan.sessions.insert(session_id, row.clone());
    applied_here.insert((session_id, request_id), save.answers);
    let items = answers.len();
    plan.saves.push(save);
    Ok(Done::Saved(SaveOutcome {
        replayed: false,
        answers_stored: stored(items),
    }))
}

/// The sessions the batch starts.
fn plan_starts(batch: &[Write]) -> HashSet<&str> {
    batch
        .iter()
        .filter_map(|w| match w {
            Write::Start { session, .. } => Some(session.id.as_str()),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::oneshot;

    fn row(id: &str, person: &str, state: &str, version: i64) -> SessionRow {
        SessionRow {
            id: id.into(),
            instrument_id: "i".into(),
            instrument_version: "1".into(),
            instrument_sha256: String::new(),
            respondent_key: person.into(),
            org_unit: "36".into(),
            state: state.into(),
            created_at: 1,
            submitted_at: (state == "submitted").then_some(2),
            answers_version: version,
        }
    }

    fn save(session: &str, request: &str, answers: &[(&str, &str)]) -> Write {
        Write::Save {
            session_id: session.into(),
            request_id: request.into(),
            answers: answers
                .iter()
                .map(|(i, v)| (i.to_string(), v.to_string()))
                .collect(),
            at: 10,
            reply: oneshot::channel().0,
        }
    }

    fn submit(session: &str, version: i64) -> Write {
        Write::Submit {
            session_id: session.into(),
            answers_version: version,
            result: NewResult::default(),
            at: 20,
            reply: oneshot::channel().0,
        }
    }

    fn known(rows: Vec<SessionRow>) -> Known {
        Known {
            sessions: rows.into_iter().map(|r| (r.id.clone(), r)).collect(),
            ..Known::default()
        }
    }

    fn saved(outcome: &Result<Done, StoreError>) -> (bool, u32) {
        match outcome {
            Ok(Done::Saved(o)) => (o.replayed, o.answers_stored),
            Err(e) => panic!("{e}"),
            Ok(_) => panic!("not a save"),
        }
    }

    #[test]
    fn two_saves_and_a_submit_of_one_session_see_each_other() {
        let mut known = known(vec![row("s", "p", "open", 1)]);
        known.answers.insert("s".into(), "a\t0".into());
        let batch = [
            save("s", "r1", &[("a", "1"), ("b", "2")]),
            save("s", "r2", &[("b", "3"), ("c", "4")]),
            submit("s", 2),
            submit("s", 3),
        ];
        let plan = plan(&batch, known).expect("planned");
        assert_eq!(saved(&plan.outcomes[0]), (false, 2));
        assert_eq!(saved(&plan.outcomes[1]), (false, 3));
        assert!(
            matches!(
                &plan.outcomes[2],
                Err(StoreError::AnswersChanged {
                    expected: 2,
                    actual: 3,
                    ..
                })
            ),
            "the submit scored before the second save"
        );
        assert!(
            matches!(&plan.outcomes[3], Ok(Done::Submitted(row, _)) if row.answers_version == 3)
        );
        let session = &plan.sessions["s"];
        assert_eq!(
            (session.state.as_str(), session.answers_version),
            ("submitted", 3)
        );
        assert_eq!(plan.answers["s"], "a\t1\nb\t3\nc\t4", "the later save wins");
        assert_eq!(plan.saves.len(), 2);
        assert_eq!(plan.submits.len(), 1);
    }

    #[test]
    fn replays_conflicts_and_refusals_are_decided_as_one_by_one() {
        let mut known = known(vec![
            row("s", "p", "open", 1),
            row("done", "q", "submitted", 0),
        ]);
        known
            .applied
            .insert(("s".into(), "old".into()), "a\t1".into());
        known.answers.insert("s".into(), "a\t1".into());
        let batch = [
            save("s", "old", &[("a", "1")]),
            save("s", "old", &[("a", "2")]),
            save("s", "new", &[("b", "1")]),
            save("s", "new", &[("b", "1")]),
            save("nope", "r", &[]),
            save("done", "late", &[]),
            submit("nope", 0),
            submit("done", 0),
        ];
        let plan = plan(&batch, known).expect("planned");
        assert_eq!(saved(&plan.outcomes[0]), (true, 1));
        assert!(matches!(&plan.outcomes[1], Err(StoreError::Conflict(_))));
        assert_eq!(saved(&plan.outcomes[2]), (false, 2));
        assert_eq!(
            saved(&plan.outcomes[3]),
            (true, 2),
            "applied earlier in the batch"
        );
        assert!(matches!(
            &plan.outcomes[4],
            Err(StoreError::NotFound { .. })
        ));
        assert!(matches!(
            &plan.outcomes[5],
            Err(StoreError::Submitted { .. })
        ));
        assert!(matches!(
            &plan.outcomes[6],
            Err(StoreError::NotFound { .. })
        ));
        assert!(matches!(
            &plan.outcomes[7],
            Err(StoreError::Submitted { .. })
        ));
        assert_eq!(plan.saves.len(), 1, "only the applied save writes");
        assert_eq!(
            plan.answers.keys().copied().collect::<Vec<_>>(),
            vec!["s"],
            "only the applied save changes answers"
        );
        assert_eq!(plan.answers["s"], "a\t1\nb\t1");
        assert_eq!(plan.sessions["s"].answers_version, 2);
    }

    #[test]
    fn unreadable_answers_fail_the_save_of_their_session_alone() {
        let mut known = known(vec![row("bad", "p", "open", 0), row("ok", "q", "open", 0)]);
        known.answers.insert("bad".into(), "no tab".into());
        let batch = [
            save("bad", "r", &[("a", "1")]),
            save("ok", "r", &[("a", "1")]),
        ];
        let plan = plan(&batch, known).expect("planned");
        assert!(
            matches!(&plan.outcomes[0], Err(StoreError::Corrupt(m)) if m.contains("'bad'")),
            "{:?}",
            plan.outcomes[0].as_ref().err()
        );
        assert_eq!(saved(&plan.outcomes[1]), (false, 1));
        assert_eq!(plan.sessions["ok"].answers_version, 1);
        assert!(
            !plan.sessions.contains_key("bad"),
            "nothing of the failed save is written"
        );
        assert_eq!(plan.answers.keys().copied().collect::<Vec<_>>(), vec!["ok"]);
    }

    #[test]
    fn one_person_submitted_twice_or_a_session_started_and_submitted_is_left_to_the_per_write_path()
    {
        let known = known(vec![row("a", "p", "open", 0), row("b", "p", "open", 0)]);
        assert!(plan(&[submit("a", 0), submit("b", 0)], known).is_none());
        let known = super::tests::known(vec![row("a", "p", "open", 0), row("b", "q", "open", 0)]);
        assert!(plan(&[submit("a", 0), submit("b", 0)], known).is_some());
        let session = Session {
            id: "new".into(),
            instrument_id: "i".into(),
            instrument_version: "1".into(),
            instrument_sha256: String::new(),
            respondent_key: "r".into(),
            org_unit: "36".into(),
            state: SessionState::Open,
            created_at: 1,
            submitted_at: None,
            answers_version: 0,
            answers: Vec::new(),
        };
        let start = Write::Start {
            session,
            reply: oneshot::channel().0,
        };
        assert!(
            plan(&[start, submit("new", 0)], Known::default()).is_none(),
            "a session submitted in the batch that starts it"
        );
    }
}
