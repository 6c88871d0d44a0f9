//! The append-only audit log.

use super::*;

fn audit(action: &str, target: &str, detail: &str) -> NewAuditEntry {
    NewAuditEntry {
        actor: "admin".into(),
        action: action.into(),
        target: target.into(),
        detail_json: detail.into(),
    }
}

pub async fn audit_entries_read_back_newest_first(db: Db) {
    let before = now_ms();
    let recorded = {
        let store = db.open().await;
        let all = AuditQuery {
            since: None,
            limit: 100,
        };
        assert!(store.audit_log(&all).await.expect("read").is_empty());
        let mut recorded = Vec::new();
        for (k, action) in ["rescore.started", "rescore.finished", "rescore.started"]
            .into_iter()
            .enumerate()
        {
            let entry = audit(action, "ikd-asn@1.0.0", &format!(r#"{{"k":{k}}}"#));
            let stored = store.record_audit(&entry).await.expect("record");
            assert_eq!(
                (
                    &stored.actor,
                    &stored.action,
                    &stored.target,
                    &stored.detail_json
                ),
                (
                    &entry.actor,
                    &entry.action,
                    &entry.target,
                    &entry.detail_json
                )
            );
            assert!(stored.at >= before && stored.at <= now_ms(), "{stored:?}");
            recorded.push(stored);
        }
        assert!(
            recorded
                .windows(2)
                .all(|w| w[0].id < w[1].id && w[0].at <= w[1].at)
        );
        let mut newest_first = recorded.clone();
        newest_first.reverse();
        assert_eq!(store.audit_log(&all).await.expect("read"), newest_first);
        store.close().await;
        newest_first
    };
    // The log survives closing and reopening; new entries follow the old ones.
    let store = db.open().await;
    let all = AuditQuery {
        since: None,
        limit: 100,
    };
    assert_eq!(store.audit_log(&all).await.expect("read"), recorded);
    let next = store
        .record_audit(&audit("rescore.finished", "x@1", "{}"))
        .await
        .expect("record");
    assert!(next.id > recorded[0].id);
    assert_eq!(store.audit_log(&all).await.expect("read")[0], next);
}

pub async fn audit_log_since_limit_and_refusals(db: Db) {
    let store = db.open().await;
    let mut ids = Vec::new();
    for k in 0..5 {
        let stored = store
            .record_audit(&audit("a", &format!("t{k}"), "{}"))
            .await
            .expect("record");
        ids.push(stored.id);
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
    let later_from = now_ms();
    tokio::time::sleep(Duration::from_millis(5)).await;
    for k in 5..8 {
        let stored = store
            .record_audit(&audit("b", &format!("t{k}"), "[1,2]"))
            .await
            .expect("record");
        ids.push(stored.id);
    }
    let read = |since, limit| {
        let store = store.clone();
        async move {
            store
                .audit_log(&AuditQuery { since, limit })
                .await
                .expect("read")
                .into_iter()
                .map(|e| e.target)
                .collect::<Vec<_>>()
        }
    };
    // The limit keeps the newest.
    assert_eq!(read(None, 3).await, ["t7", "t6", "t5"]);
    assert_eq!(read(None, 0).await, Vec::<String>::new());
    assert_eq!(read(None, 100).await.len(), 8);
    // `since` keeps those recorded at or after it.
    assert_eq!(read(Some(later_from), 100).await, ["t7", "t6", "t5"]);
    assert_eq!(read(Some(later_from), 2).await, ["t7", "t6"]);
    assert_eq!(read(Some(now_ms() + 60_000), 100).await.len(), 0);
    // Refused entries store nothing.
    for bad in [
        audit("a", "t", "{not json"),
        audit("", "t", "{}"),
        NewAuditEntry {
            actor: String::new(),
            ..audit("a", "t", "{}")
        },
    ] {
        let err = store.record_audit(&bad).await.expect_err("refused");
        assert!(matches!(err, StoreError::Invalid(_)), "{err}");
    }
    assert_eq!(read(None, 100).await.len(), 8);
}
