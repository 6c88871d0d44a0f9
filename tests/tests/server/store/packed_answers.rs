//! Answers packed into their session's row and each save's cells into its request's
//! (migration 0010): a database with the per-item tables of 0009 reads, replays and
//! rescores exactly as before once upgraded.

use super::*;

const OPEN: &str = "00000000-0000-4000-8000-00000000a001";
const SUBMITTED: &str = "00000000-0000-4000-8000-00000000a002";

/// Rows of a database left by migration 0009, `{TAB}` and `{LF}` standing for the backend's
/// expression of those characters. The open session had three saves: r1 answers q2 twice
/// (the later cell wins) and q1; r2 overwrites q1 and answers an item whose id and value
/// hold a tab, a newline and backslashes, and "Z" and "é" (byte order: "Z" < "q1" < "é");
/// r3 saved no cell. Its latest answers are what those saves left. The submitted session had
/// one save and a result.
const ROWS_0009: &str = r"
INSERT INTO sessions (id, instrument_id, instrument_version, instrument_sha256,
    respondent_key, org_unit, state, created_at, submitted_at, latest_revision,
    answers_version) VALUES
 ('00000000-0000-4000-8000-00000000a001', 'ikd-asn', '1.0.0', 'ab', 'p', '70.09',
  'open', 1000, NULL, NULL, 3),
 ('00000000-0000-4000-8000-00000000a002', 'ikd-asn', '1.0.0', 'ab', 'q', '70.09',
  'submitted', 1000, 5000, 1, 1);
INSERT INTO save_requests (session_id, request_id, saved_at, answers) VALUES
 ('00000000-0000-4000-8000-00000000a001', 'r1', 2000, 3),
 ('00000000-0000-4000-8000-00000000a001', 'r2', 3000, 4),
 ('00000000-0000-4000-8000-00000000a001', 'r3', 4000, 0),
 ('00000000-0000-4000-8000-00000000a002', 'only', 4500, 1);
INSERT INTO answer_log (session_id, request_id, position, item_id, value) VALUES
 ('00000000-0000-4000-8000-00000000a001', 'r1', 0, 'q2', '1'),
 ('00000000-0000-4000-8000-00000000a001', 'r1', 1, 'q1', '2'),
 ('00000000-0000-4000-8000-00000000a001', 'r1', 2, 'q2', '3'),
 ('00000000-0000-4000-8000-00000000a001', 'r2', 0, 'q1', '4'),
 ('00000000-0000-4000-8000-00000000a001', 'r2', 1, 'w' || {TAB} || 'x\', 'a' || {LF} || 'b\t'),
 ('00000000-0000-4000-8000-00000000a001', 'r2', 2, 'é', ''),
 ('00000000-0000-4000-8000-00000000a001', 'r2', 3, 'Z', '5'),
 ('00000000-0000-4000-8000-00000000a002', 'only', 0, 'q1', '7');
INSERT INTO answers (session_id, item_id, value, request_id, saved_at) VALUES
 ('00000000-0000-4000-8000-00000000a001', 'q1', '4', 'r2', 3000),
 ('00000000-0000-4000-8000-00000000a001', 'q2', '3', 'r1', 2000),
 ('00000000-0000-4000-8000-00000000a001', 'w' || {TAB} || 'x\', 'a' || {LF} || 'b\t', 'r2', 3000),
 ('00000000-0000-4000-8000-00000000a001', 'é', '', 'r2', 3000),
 ('00000000-0000-4000-8000-00000000a001', 'Z', '5', 'r2', 3000),
 ('00000000-0000-4000-8000-00000000a002', 'q1', '7', 'only', 4500);
INSERT INTO results (session_id, revision, created_at, model, model_version, index_value,
    index_se, level, flags, provenance_json, result_json) VALUES
 ('00000000-0000-4000-8000-00000000a002', 1, 5000, 'm', '1', 40.0, NULL, NULL, '[]', '{}', '{}');
";

/// The item whose id and value hold a tab, a newline and backslashes.
const AWKWARD_ITEM: &str = "w\tx\\";
const AWKWARD_VALUE: &str = "a\nb\\t";

fn r1() -> Vec<(String, String)> {
    answers(&[("q2", "1"), ("q1", "2"), ("q2", "3")])
}

fn r2() -> Vec<(String, String)> {
    answers(&[
        ("q1", "4"),
        (AWKWARD_ITEM, AWKWARD_VALUE),
        ("é", ""),
        ("Z", "5"),
    ])
}

/// The open session's answers after r1 to r3, sorted by item (byte order).
fn latest() -> Vec<(String, String)> {
    answers(&[
        ("Z", "5"),
        ("q1", "4"),
        ("q2", "3"),
        (AWKWARD_ITEM, AWKWARD_VALUE),
        ("é", ""),
    ])
}

/// Text values of a one-column query, in the query's order.
async fn query_texts(db: &Db, sql: &str) -> Vec<String> {
    use sqlx::Connection;
    if db.url.starts_with("sqlite") {
        let options: sqlx::sqlite::SqliteConnectOptions = db.url.parse().expect("sqlite URL");
        let mut conn = sqlx::SqliteConnection::connect_with(&options)
            .await
            .expect("connect");
        let texts = sqlx::query_scalar(sql)
            .fetch_all(&mut conn)
            .await
            .expect(sql);
        conn.close().await.expect("close");
        texts
    } else {
        let mut conn = sqlx::PgConnection::connect(&db.url).await.expect("connect");
        let texts = sqlx::query_scalar(sql)
            .fetch_all(&mut conn)
            .await
            .expect(sql);
        conn.close().await.expect("close");
        texts
    }
}

/// A database at 0009 with answers and a log migrates to packed answers: the session's
/// answers, the replays of every earlier request (one by one and in one batch), a new save
/// on top and the rescore's input are what they were; the packed texts are those the store
/// itself writes.
pub async fn answers_kept_per_item_upgrade_into_packed_columns(db: Db) {
    let (tab, lf) = if db.url.starts_with("sqlite") {
        ("char(9)", "char(10)")
    } else {
        ("chr(9)", "chr(10)")
    };
    let rows = ROWS_0009.replace("{TAB}", tab).replace("{LF}", lf);
    db.migrated_up_to("0009", &rows).await;
    let store = db.open().await;

    // The packed texts, as `ikd_store`'s packing writes them (item TAB value, cells joined
    // by LF; backslash, TAB and LF escaped): in item byte order for the latest answers, in
    // request order for each request's cells.
    let awkward = "w\\tx\\\\\ta\\nb\\\\t";
    assert_eq!(
        query_texts(&db, "SELECT answers FROM sessions ORDER BY id").await,
        vec![
            format!("Z\t5\nq1\t4\nq2\t3\n{awkward}\né\t"),
            "q1\t7".to_owned()
        ]
    );
    assert_eq!(
        query_texts(
            &db,
            "SELECT cells FROM save_requests ORDER BY session_id, request_id"
        )
        .await,
        vec![
            "q2\t1\nq1\t2\nq2\t3".to_owned(),
            format!("q1\t4\n{awkward}\né\t\nZ\t5"),
            String::new(),
            "q1\t7".to_owned(),
        ]
    );

    let open = store.session(OPEN).await.expect("read").expect("kept");
    assert_eq!(open.answers, latest());
    assert_eq!(open.answers_version, 3);

    // Every earlier request replays, alone and in one batch; other cells are a conflict.
    for (request, cells) in [("r1", r1()), ("r2", r2()), ("r3", vec![])] {
        let out = store
            .save_answers(OPEN, request, &cells)
            .await
            .unwrap_or_else(|e| panic!("replay of {request}: {e}"));
        assert_eq!((out.replayed, out.answers_stored), (true, 5), "{request}");
    }
    let (first, second) = (r1(), r2());
    let mut reordered = r1();
    reordered.swap(0, 1);
    let (a, b, c, d) = tokio::join!(
        store.save_answers(OPEN, "r1", &first),
        store.save_answers(OPEN, "r2", &second),
        store.save_answers(OPEN, "r3", &[]),
        store.save_answers(OPEN, "r1", &reordered),
    );
    for (request, out) in [("r1", a), ("r2", b), ("r3", c)] {
        let out = out.unwrap_or_else(|e| panic!("batched replay of {request}: {e}"));
        assert_eq!((out.replayed, out.answers_stored), (true, 5), "{request}");
    }
    let err = d.expect_err("r1 with its cells in another order");
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    assert!(
        err.to_string().contains("'r1'") && err.to_string().contains(OPEN),
        "{err}"
    );
    let again = store.session(OPEN).await.expect("read").expect("kept");
    assert_eq!(
        (again.answers, again.answers_version),
        (latest(), 3),
        "replays change nothing"
    );

    // A new save goes on from the upgraded answers; the submit and the rescore read them.
    let out = store
        .save_answers(OPEN, "r4", &answers(&[("q1", "9"), ("new", "1")]))
        .await
        .expect("save");
    assert_eq!((out.replayed, out.answers_stored), (false, 6));
    let mut expected = latest();
    expected[1].1 = "9".into();
    expected.insert(1, ("new".into(), "1".into()));
    let open = store.session(OPEN).await.expect("read").expect("kept");
    assert_eq!((&open.answers, open.answers_version), (&expected, 4));
    store
        .submit(OPEN, 4, result(Some(50.0), None, vec![]))
        .await
        .expect("submit");
    let rescore: Vec<(String, Vec<(String, String)>)> = store
        .submitted_sessions("ikd-asn", "1.0.0", None, 10)
        .await
        .expect("submitted sessions")
        .into_iter()
        .map(|s| (s.id, s.answers))
        .collect();
    assert_eq!(
        rescore,
        vec![
            (OPEN.to_owned(), expected),
            (SUBMITTED.to_owned(), answers(&[("q1", "7")]))
        ]
    );
    let late = store
        .save_answers(SUBMITTED, "only", &answers(&[("q1", "7")]))
        .await
        .expect("a replay after the submit");
    assert_eq!((late.replayed, late.answers_stored), (true, 1));
}
