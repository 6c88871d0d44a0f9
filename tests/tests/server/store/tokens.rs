//! Tokens a server keeps for itself (the first-run admin token on PostgreSQL).

use super::*;

fn hash(k: usize) -> String {
    format!("{k:064x}")
}

/// Sixteen claims of one name at once, from two store instances (two servers): exactly one
/// keeps its hash, every claim gets that one, and later claims do too.
pub async fn racing_token_claims_keep_exactly_one(db: Db) {
    let stores = [db.open().await, db.open().await];
    let claims = (0..16).map(|k| {
        let store = stores[k % 2].clone();
        tokio::spawn(async move {
            store
                .claim_server_token("first-run-admin", &hash(k))
                .await
                .expect("claim")
        })
    });
    let mut outcomes = Vec::new();
    for claim in claims.collect::<Vec<_>>() {
        outcomes.push(claim.await.expect("joined"));
    }
    let winners: Vec<_> = outcomes.iter().filter(|c| c.created).collect();
    assert_eq!(winners.len(), 1, "{outcomes:?}");
    let kept = &winners[0].sha256;
    assert!(outcomes.iter().all(|c| &c.sha256 == kept), "{outcomes:?}");
    assert!((0..16).any(|k| &hash(k) == kept));

    let later = stores[1]
        .claim_server_token("first-run-admin", &hash(99))
        .await
        .expect("claim");
    assert_eq!((later.created, &later.sha256), (false, kept));
    // Another name is another token.
    let other = stores[0]
        .claim_server_token("other", &hash(7))
        .await
        .expect("claim");
    assert!(other.created);
    for bad in ["", "abc", &"g".repeat(64)] {
        let err = stores[0]
            .claim_server_token("x", bad)
            .await
            .expect_err("refused");
        assert!(matches!(err, StoreError::Invalid(_)), "{err}");
    }
}
