//! The [`Store`](crate::Store) implementation, written once for both backends.
//!
//! The SQL is the same on both (`$n` placeholders; SQLite accepts them), so the method
//! bodies are stamped out per backend by [`impl_store!`]. What differs is supplied by the
//! backend type as inherent items:
//!
//! * `BACKEND`: `"sqlite"` / `"postgres"`;
//! * `LOCK_SESSION`: the query reading a session's state inside a write transaction
//!   (PostgreSQL appends `FOR UPDATE`, serialising writers of one session; SQLite needs
//!   nothing: `BEGIN IMMEDIATE` already holds the database's write lock);
//! * `write_tx()` / `read_tx()`: a write transaction and a read-only consistent snapshot;
//! * `write_pool()`: where single-statement writes go;
//! * `close_pools()`.
//!
//! Statements whose text varies with the data (multi-row inserts, `IN` lists) are not kept
//! in the per-connection statement cache (`persistent(false)`): they would only evict the
//! fixed ones.

/// Implements [`crate::Store`] for `$store` over sqlx database `$db`.
macro_rules! impl_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl crate::Store for $store {
            fn backend(&self) -> &'static str {
                Self::BACKEND
            }

            async fn start_session(
                &self,
                new: crate::NewSession,
            ) -> Result<crate::Session, crate::StoreError> {
                let id = uuid::Uuid::new_v4().to_string();
                let now = crate::now_ms();
                sqlx::query(crate::common::INSERT_SESSION)
                    .bind(&id)
                    .bind(&new.instrument_id)
                    .bind(&new.instrument_version)
                    .bind(&new.instrument_sha256)
                    .bind(&new.respondent_key)
                    .bind(&new.org_unit)
                    .bind(now)
                    .execute(self.write_pool())
                    .await
                    .map_err(crate::common::db_err(
                        Self::BACKEND,
                        format!(
                            "starting a session of instrument '{}' {}",
                            new.instrument_id, new.instrument_version
                        ),
                    ))?;
                Ok(crate::Session {
                    id,
                    instrument_id: new.instrument_id,
                    instrument_version: new.instrument_version,
                    instrument_sha256: new.instrument_sha256,
                    respondent_key: new.respondent_key,
                    org_unit: new.org_unit,
                    state: crate::SessionState::Open,
                    created_at: now,
                    submitted_at: None,
                    answers_version: 0,
                    answers: Vec::new(),
                })
            }

            async fn session(
                &self,
                id: &str,
            ) -> Result<Option<crate::Session>, crate::StoreError> {
                let err =
                    || crate::common::db_err(Self::BACKEND, format!("reading session '{id}'"));
                let mut tx = self.read_tx().await.map_err(err())?;
                let row: Option<crate::common::SessionRow> =
                    sqlx::query_as(crate::common::SELECT_SESSION)
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(err())?;
                let Some(row) = row else {
                    return Ok(None);
                };
                let answers: Vec<crate::common::AnswerRow> =
                    sqlx::query_as(crate::common::SELECT_ANSWERS)
                        .bind(id)
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(err())?;
                tx.commit().await.map_err(err())?;
                Ok(crate::common::assemble_sessions(vec![row], answers)?.pop())
            }

            async fn save_answers(
                &self,
                session_id: &str,
                request_id: &str,
                answers: &[(String, String)],
            ) -> Result<crate::SaveOutcome, crate::StoreError> {
                crate::common::check_request_id(session_id, request_id)?;
                let err = || {
                    crate::common::db_err(
                        Self::BACKEND,
                        format!(
                            "saving answers of session '{session_id}' (request '{request_id}')"
                        ),
                    )
                };
                let mut tx = self.write_tx().await.map_err(err())?;
                let conn = &mut *tx;

                let state: Option<String> = sqlx::query_scalar(Self::LOCK_SESSION)
                    .bind(session_id)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(err())?;
                let Some(state) = state else {
                    return Err(crate::StoreError::NotFound {
                        what: "session",
                        id: session_id.to_owned(),
                    });
                };

                let applied: Option<i64> = sqlx::query_scalar(crate::common::SELECT_SAVE_REQUEST)
                    .bind(session_id)
                    .bind(request_id)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(err())?;
                if applied.is_some() {
                    let logged: Vec<(String, String)> =
                        sqlx::query_as(crate::common::SELECT_LOGGED_SAVE)
                            .bind(session_id)
                            .bind(request_id)
                            .fetch_all(&mut *conn)
                            .await
                            .map_err(err())?;
                    if logged.as_slice() != answers {
                        return Err(crate::StoreError::Conflict(format!(
                            "request '{request_id}' of session '{session_id}' was already \
                             applied with different answers; a new save needs a new request id"
                        )));
                    }
                    let stored: i64 = sqlx::query_scalar(crate::common::COUNT_ANSWERS)
                        .bind(session_id)
                        .fetch_one(&mut *conn)
                        .await
                        .map_err(err())?;
                    return Ok(crate::SaveOutcome {
                        replayed: true,
                        answers_stored: u32::try_from(stored).unwrap_or(u32::MAX),
                    });
                }
                let state = crate::common::parse_state(session_id, &state)?;
                if state == crate::SessionState::Submitted {
                    return Err(crate::StoreError::Submitted {
                        session: session_id.to_owned(),
                    });
                }

                // In the save's transaction: a submit that scored the answers before this
                // save finds another version and scores again (see `submit`).
                sqlx::query(crate::common::BUMP_ANSWERS_VERSION)
                    .bind(session_id)
                    .execute(&mut *conn)
                    .await
                    .map_err(err())?;
                let now = crate::now_ms();
                sqlx::query(crate::common::INSERT_SAVE_REQUEST)
                    .bind(session_id)
                    .bind(request_id)
                    .bind(now)
                    .bind(answers.len() as i64)
                    .execute(&mut *conn)
                    .await
                    .map_err(err())?;
                for (chunk_no, chunk) in answers.chunks(crate::common::INSERT_CHUNK).enumerate() {
                    let first = chunk_no * crate::common::INSERT_CHUNK;
                    let mut qb = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO answer_log \
                         (session_id, request_id, position, item_id, value) ",
                    );
                    qb.push_values(chunk.iter().enumerate(), |mut row, (i, (item, value))| {
                        row.push_bind(session_id)
                            .push_bind(request_id)
                            .push_bind((first + i) as i64)
                            .push_bind(item.as_str())
                            .push_bind(value.as_str());
                    });
                    qb.build().persistent(false).execute(&mut *conn).await.map_err(err())?;
                }
                let latest = crate::common::latest_per_item(answers);
                for chunk in latest.chunks(crate::common::INSERT_CHUNK) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO answers (session_id, item_id, value, request_id, saved_at) ",
                    );
                    qb.push_values(chunk, |mut row, (item, value)| {
                        row.push_bind(session_id)
                            .push_bind(*item)
                            .push_bind(*value)
                            .push_bind(request_id)
                            .push_bind(now);
                    });
                    qb.push(
                        " ON CONFLICT (session_id, item_id) DO UPDATE SET value = excluded.value, \
                         request_id = excluded.request_id, saved_at = excluded.saved_at",
                    );
                    qb.build().persistent(false).execute(&mut *conn).await.map_err(err())?;
                }
                let stored: i64 = sqlx::query_scalar(crate::common::COUNT_ANSWERS)
                    .bind(session_id)
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(err())?;
                tx.commit().await.map_err(err())?;
                Ok(crate::SaveOutcome {
                    replayed: false,
                    answers_stored: u32::try_from(stored).unwrap_or(u32::MAX),
                })
            }

            async fn submit(
                &self,
                session_id: &str,
                answers_version: i64,
                result: crate::NewResult,
            ) -> Result<crate::StoredResult, crate::StoreError> {
                crate::common::check_result(session_id, &result)?;
                let err = || {
                    crate::common::db_err(
                        Self::BACKEND,
                        format!("submitting session '{session_id}'"),
                    )
                };
                let mut tx = self.write_tx().await.map_err(err())?;
                let now = crate::now_ms();
                // Race-safe: of two submits, the second finds state = 'submitted'; a save
                // applied since the answers were read has changed answers_version (on
                // PostgreSQL the update waits for a writer's row lock, then re-checks the WHERE).
                let row: Option<crate::common::SessionRow> =
                    sqlx::query_as(crate::common::SUBMIT_SESSION)
                        .bind(session_id)
                        .bind(now)
                        .bind(answers_version)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(err())?;
                let Some(row) = row else {
                    let found: Option<(String, i64)> =
                        sqlx::query_as(crate::common::SESSION_STATE_VERSION)
                            .bind(session_id)
                            .fetch_optional(&mut *tx)
                            .await
                            .map_err(err())?;
                    return Err(crate::common::submit_refusal(
                        session_id,
                        answers_version,
                        found,
                    ));
                };
                Self::insert_result(&mut tx, session_id, 1, now, &result)
                    .await
                    .map_err(err())?;
                tx.commit().await.map_err(err())?;
                Ok(crate::common::stored_result(row, 1, now, result))
            }

            async fn add_revision(
                &self,
                session_id: &str,
                result: crate::NewResult,
            ) -> Result<crate::StoredResult, crate::StoreError> {
                crate::common::check_result(session_id, &result)?;
                let err = || {
                    crate::common::db_err(
                        Self::BACKEND,
                        format!("storing a new result revision of session '{session_id}'"),
                    )
                };
                let mut tx = self.write_tx().await.map_err(err())?;
                let row: Option<crate::common::RevisionRow> =
                    sqlx::query_as(crate::common::NEXT_REVISION)
                        .bind(session_id)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(err())?;
                let Some(row) = row else {
                    let state: Option<String> = sqlx::query_scalar(Self::LOCK_SESSION)
                        .bind(session_id)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(err())?;
                    return Err(match state {
                        None => crate::StoreError::NotFound {
                            what: "session",
                            id: session_id.to_owned(),
                        },
                        Some(_) => crate::StoreError::Conflict(format!(
                            "session '{session_id}' is not submitted: only a submitted session \
                             has results to revise"
                        )),
                    });
                };
                let revision = u32::try_from(row.latest_revision).map_err(|_| {
                    crate::StoreError::Corrupt(format!(
                        "session '{session_id}' has too many result revisions ({})",
                        row.latest_revision
                    ))
                })?;
                let now = crate::now_ms();
                Self::insert_result(&mut tx, session_id, row.latest_revision, now, &result)
                    .await
                    .map_err(err())?;
                tx.commit().await.map_err(err())?;
                Ok(crate::common::stored_result(row.session, revision, now, result))
            }

            async fn latest_result(
                &self,
                session_id: &str,
            ) -> Result<Option<crate::StoredResult>, crate::StoreError> {
                let err = || {
                    crate::common::db_err(
                        Self::BACKEND,
                        format!("reading the latest result of session '{session_id}'"),
                    )
                };
                let mut tx = self.read_tx().await.map_err(err())?;
                let row: Option<crate::common::ResultRow> =
                    sqlx::query_as(&crate::common::LATEST_RESULT)
                        .bind(session_id)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(err())?;
                let Some(row) = row else {
                    return Ok(None);
                };
                let domains: Vec<crate::common::DomainRow> =
                    sqlx::query_as(&crate::common::REVISION_DOMAINS)
                        .bind(session_id)
                        .bind(row.revision)
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(err())?;
                tx.commit().await.map_err(err())?;
                Ok(crate::common::assemble_results(vec![row], domains)?.pop())
            }

            async fn result_revisions(
                &self,
                session_id: &str,
            ) -> Result<Vec<crate::StoredResult>, crate::StoreError> {
                let err = || {
                    crate::common::db_err(
                        Self::BACKEND,
                        format!("reading the result revisions of session '{session_id}'"),
                    )
                };
                let mut tx = self.read_tx().await.map_err(err())?;
                let rows: Vec<crate::common::ResultRow> =
                    sqlx::query_as(&crate::common::RESULT_REVISIONS)
                        .bind(session_id)
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(err())?;
                let domains: Vec<crate::common::DomainRow> = if rows.is_empty() {
                    Vec::new()
                } else {
                    sqlx::query_as(&crate::common::SESSION_DOMAINS)
                        .bind(session_id)
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(err())?
                };
                tx.commit().await.map_err(err())?;
                crate::common::assemble_results(rows, domains)
            }

            async fn results_page(
                &self,
                filter: &crate::ResultFilter,
                after: Option<(i64, String)>,
                limit: u32,
            ) -> Result<Vec<crate::StoredResult>, crate::StoreError> {
                if limit == 0 {
                    return Ok(Vec::new());
                }
                let err = || {
                    crate::common::db_err(
                        Self::BACKEND,
                        format!(
                            "reading a page of results under org prefix '{}'",
                            filter.org_prefix
                        ),
                    )
                };
                let mut tx = self.read_tx().await.map_err(err())?;
                let rows: Vec<crate::common::ResultRow> =
                    crate::common::results_page_query::<$db>(filter, after, limit)
                        .build_query_as()
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(err())?;
                let domains: Vec<crate::common::DomainRow> = if rows.is_empty() {
                    Vec::new()
                } else {
                    crate::common::domains_of_query::<$db>(&rows)
                        .build_query_as()
                        .persistent(false)
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(err())?
                };
                tx.commit().await.map_err(err())?;
                crate::common::assemble_results(rows, domains)
            }

            async fn submitted_sessions(
                &self,
                instrument_id: &str,
                instrument_version: &str,
                after: Option<String>,
                limit: u32,
            ) -> Result<Vec<crate::Session>, crate::StoreError> {
                if limit == 0 {
                    return Ok(Vec::new());
                }
                let err = || {
                    crate::common::db_err(
                        Self::BACKEND,
                        format!(
                            "reading submitted sessions of instrument '{instrument_id}' \
                             {instrument_version}"
                        ),
                    )
                };
                let mut tx = self.read_tx().await.map_err(err())?;
                let rows: Vec<crate::common::SessionRow> =
                    crate::common::submitted_sessions_query::<$db>(
                        instrument_id,
                        instrument_version,
                        after,
                        limit,
                    )
                    .build_query_as()
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(err())?;
                let answers: Vec<crate::common::AnswerRow> = if rows.is_empty() {
                    Vec::new()
                } else {
                    crate::common::answers_of_query::<$db>(&rows)
                        .build_query_as()
                        .persistent(false)
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(err())?
                };
                tx.commit().await.map_err(err())?;
                crate::common::assemble_sessions(rows, answers)
            }

            async fn aggregate(
                &self,
                filter: &crate::ResultFilter,
            ) -> Result<crate::Aggregate, crate::StoreError> {
                let err = || {
                    crate::common::db_err(
                        Self::BACKEND,
                        format!("aggregating results under org prefix '{}'", filter.org_prefix),
                    )
                };
                let [mut totals, mut levels, mut domains, mut domain_levels] =
                    crate::common::aggregate_queries::<$db>(filter);
                let mut tx = self.read_tx().await.map_err(err())?;
                let totals: crate::common::TotalsRow = totals
                    .build_query_as()
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(err())?;
                let levels: Vec<crate::common::LevelRow> = levels
                    .build_query_as()
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(err())?;
                let domains: Vec<crate::common::DomainTotalsRow> = domains
                    .build_query_as()
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(err())?;
                let domain_levels: Vec<crate::common::DomainLevelRow> = domain_levels
                    .build_query_as()
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(err())?;
                tx.commit().await.map_err(err())?;
                Ok(crate::common::assemble_aggregate(
                    totals,
                    levels,
                    domains,
                    domain_levels,
                ))
            }

            async fn unit_counts(
                &self,
                filter: &crate::ResultFilter,
            ) -> Result<Vec<(String, u64)>, crate::StoreError> {
                let err = || {
                    crate::common::db_err(
                        Self::BACKEND,
                        format!("counting results per unit under '{}'", filter.org_prefix),
                    )
                };
                let mut tx = self.read_tx().await.map_err(err())?;
                let rows: Vec<(String, i64)> = crate::common::unit_counts_query::<$db>(filter)
                    .build_query_as()
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(err())?;
                tx.commit().await.map_err(err())?;
                Ok(rows.into_iter().map(|(u, n)| (u, n.max(0) as u64)).collect())
            }

            async fn record_audit(
                &self,
                entry: &crate::NewAuditEntry,
            ) -> Result<crate::AuditEntry, crate::StoreError> {
                crate::common::check_audit(entry)?;
                let at = crate::now_ms();
                let id: i64 = sqlx::query_scalar(crate::common::INSERT_AUDIT)
                    .bind(at)
                    .bind(&entry.actor)
                    .bind(&entry.action)
                    .bind(&entry.target)
                    .bind(&entry.detail_json)
                    .fetch_one(self.write_pool())
                    .await
                    .map_err(crate::common::db_err(
                        Self::BACKEND,
                        format!("recording audit entry '{}'", entry.action),
                    ))?;
                Ok(crate::AuditEntry {
                    id,
                    at,
                    actor: entry.actor.clone(),
                    action: entry.action.clone(),
                    target: entry.target.clone(),
                    detail_json: entry.detail_json.clone(),
                })
            }

            async fn audit_log(
                &self,
                query: &crate::AuditQuery,
            ) -> Result<Vec<crate::AuditEntry>, crate::StoreError> {
                let err = || crate::common::db_err(Self::BACKEND, "reading the audit log");
                let limit = i64::from(query.limit.min(crate::MAX_PAGE));
                let mut tx = self.read_tx().await.map_err(err())?;
                let rows: Vec<(i64, i64, String, String, String, String)> =
                    sqlx::query_as(crate::common::SELECT_AUDIT)
                        .bind(query.since)
                        .bind(limit)
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(err())?;
                tx.commit().await.map_err(err())?;
                Ok(rows
                    .into_iter()
                    .map(|(id, at, actor, action, target, detail_json)| crate::AuditEntry {
                        id,
                        at,
                        actor,
                        action,
                        target,
                        detail_json,
                    })
                    .collect())
            }

            async fn close(&self) {
                self.close_pools().await;
            }
        }

        impl $store {
            /// Inserts a result revision and its domains.
            async fn insert_result(
                conn: &mut <$db as sqlx::Database>::Connection,
                session_id: &str,
                revision: i64,
                created_at: i64,
                result: &crate::NewResult,
            ) -> Result<(), sqlx::Error> {
                sqlx::query(crate::common::INSERT_RESULT)
                    .bind(session_id)
                    .bind(revision)
                    .bind(created_at)
                    .bind(&result.model)
                    .bind(&result.model_version)
                    .bind(result.index)
                    .bind(result.index_se)
                    .bind(result.level.as_deref())
                    .bind(crate::common::flags_json(result))
                    .bind(&result.provenance_json)
                    .bind(&result.result_json)
                    .execute(&mut *conn)
                    .await?;
                let domains: Vec<(usize, &crate::DomainScore)> =
                    result.domains.iter().enumerate().collect();
                for chunk in domains.chunks(crate::common::INSERT_CHUNK) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO result_domains \
                         (session_id, revision, position, code, score, se, level, answered) ",
                    );
                    qb.push_values(chunk, |mut row, (position, d)| {
                        row.push_bind(session_id)
                            .push_bind(revision)
                            .push_bind(*position as i64)
                            .push_bind(d.code.as_str())
                            .push_bind(d.score)
                            .push_bind(d.se)
                            .push_bind(d.level.as_deref())
                            .push_bind(i64::from(d.answered));
                    });
                    qb.build().persistent(false).execute(&mut *conn).await?;
                }
                Ok(())
            }
        }
    };
}

pub(crate) use impl_store;
