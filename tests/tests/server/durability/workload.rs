//! The write load the kills interrupt: clients saving and submitting, and the ledger of what the server acknowledged.

use super::*;

/// SplitMix64: small, seeded, good enough to pick moments and batch sizes.
pub(super) struct Rng(pub(super) u64);

impl Rng {
    pub(super) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    pub(super) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

pub(super) fn seed() -> u64 {
    match std::env::var("IKD_DURABILITY_SEED") {
        Ok(s) => s.trim().parse().expect("IKD_DURABILITY_SEED is a number"),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
    }
}

pub(super) fn authorized<T>(message: T) -> tonic::Request<T> {
    let mut r = tonic::Request::new(message);
    r.set_timeout(RPC_TIMEOUT);
    r.metadata_mut().insert(
        "authorization",
        format!("Bearer {}", tokens::SERVICE).parse().unwrap(),
    );
    r
}

/// The example respondents with at least [`MIN_ANSWERS`] non-empty answers: (org unit,
/// answers in instrument order). Their values are valid for their items.
pub(super) fn examples() -> Examples {
    let path = workspace().join("instruments/ikd-asn-2025/examples/answers.csv");
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let examples: Vec<_> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            let answers: Vec<(String, String)> = header
                .iter()
                .zip(r.iter())
                .skip(2)
                .filter(|(name, value)| *name != "duration_seconds" && !value.is_empty())
                .map(|(name, value)| (name.clone(), value.to_owned()))
                .collect();
            (r[1].to_owned(), answers)
        })
        .filter(|(_, answers)| answers.len() >= MIN_ANSWERS)
        .collect();
    assert!(examples.len() >= 2, "too few complete example respondents");
    examples
}

/// What the clients and the killer share.
pub(super) struct Shared {
    /// The live server `(epoch, url)`; `None` from just before a kill until the restarted
    /// server listens. Epoch `n` is the server started after the `n`-th kill.
    pub(super) endpoint: Mutex<Option<(u64, String)>>,
    /// Clients finish their current step and stop.
    pub(super) stop: AtomicBool,
    /// Write RPCs sent and not yet answered.
    pub(super) in_flight: AtomicUsize,
    /// Acknowledged writes so far: all, saves, submits.
    pub(super) acks: AtomicU64,
    pub(super) saves: AtomicU64,
    pub(super) submits: AtomicU64,
}

impl Shared {
    pub(super) fn epoch(&self) -> Option<u64> {
        self.endpoint.lock().unwrap().as_ref().map(|(e, _)| *e)
    }

    pub(super) fn set(&self, endpoint: Option<(u64, String)>) {
        *self.endpoint.lock().unwrap() = endpoint;
    }

    /// Waits until `n` more writes are acknowledged: the load is running.
    pub(super) async fn wait_for_load(&self, n: u64, what: &str) {
        let from = self.acks.load(Ordering::SeqCst);
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.acks.load(Ordering::SeqCst) < from + n {
            assert!(
                Instant::now() < deadline,
                "{what}: no write load for 60 s (only {} acknowledged writes)",
                self.acks.load(Ordering::SeqCst) - from
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// A client's connection to whichever server is live.
pub(super) struct Client {
    pub(super) shared: Arc<Shared>,
    pub(super) conn: Option<(u64, Assessment)>,
}

/// A call's outcome with the number of attempts that failed because the server died.
pub(super) type Called<T> = Result<(T, u32), (tonic::Status, u32)>;

impl Client {
    pub(super) fn new(shared: Arc<Shared>) -> Client {
        Client { shared, conn: None }
    }

    /// The live server's epoch and a client on a channel to it (new after each restart).
    pub(super) async fn live(&mut self) -> (u64, Assessment) {
        loop {
            let endpoint = self.shared.endpoint.lock().unwrap().clone();
            if let Some((epoch, url)) = endpoint {
                if self.conn.as_ref().map(|c| c.0) != Some(epoch) {
                    let channel = Channel::from_shared(url)
                        .unwrap()
                        .connect_timeout(Duration::from_secs(5))
                        .connect_lazy();
                    self.conn = Some((epoch, AssessmentServiceClient::new(channel)));
                }
                let (epoch, client) = self.conn.as_ref().unwrap();
                return (*epoch, client.clone());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Calls `f` until a live server answers. A failure of a call whose server was killed
    /// meanwhile (the epoch moved on) is not an answer: the same request is sent again to
    /// the restarted server. Any answer of a server that is still live, error or not, is
    /// returned.
    pub(super) async fn call<T, F, Fut>(&mut self, what: &str, mut f: F) -> Called<T>
    where
        F: FnMut(Assessment) -> Fut,
        Fut: Future<Output = Result<tonic::Response<T>, tonic::Status>>,
    {
        let patience = Instant::now() + ACK_PATIENCE;
        let mut failed = 0;
        loop {
            let (epoch, client) = self.live().await;
            self.shared.in_flight.fetch_add(1, Ordering::SeqCst);
            let outcome =
                tokio::time::timeout(RPC_TIMEOUT + Duration::from_secs(5), f(client)).await;
            self.shared.in_flight.fetch_sub(1, Ordering::SeqCst);
            let status = match outcome {
                Ok(Ok(response)) => return Ok((response.into_inner(), failed)),
                Ok(Err(status)) => status,
                Err(_) => tonic::Status::deadline_exceeded(format!(
                    "{what}: no answer within {RPC_TIMEOUT:?} + 5 s"
                )),
            };
            if self.shared.epoch() == Some(epoch) {
                return Err((status, failed));
            }
            failed += 1;
            assert!(
                Instant::now() < patience,
                "{what}: not acknowledged after {failed} attempts in {ACK_PATIENCE:?}; \
                 last: {status:?}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// One acknowledged save.
#[derive(Debug, Clone)]
pub(super) struct Save {
    pub(super) request_id: String,
    pub(super) answers: Vec<(String, String)>,
}

#[derive(Debug)]
pub(super) enum Submit {
    /// Never asked (the load stopped first).
    No,
    /// Acknowledged with this result.
    Acked(Box<api::Result>),
    /// The call failed as the server died, and its retry found the session submitted: the
    /// first attempt was committed, its acknowledgement lost.
    AckLost,
}

/// Everything acknowledged about one session.
#[derive(Debug)]
pub(super) struct Ledger {
    pub(super) client: usize,
    pub(super) session_id: String,
    pub(super) org_unit: String,
    pub(super) instrument_version: String,
    pub(super) saves: Vec<Save>,
    /// Item → the value of its last acknowledged save.
    pub(super) answers: BTreeMap<String, String>,
    pub(super) submit: Submit,
}

/// Counts of what happened to the calls of one client.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Counts {
    pub(super) starts_retried: u64,
    pub(super) saves_retried: u64,
    /// Retried saves answered `replayed`: committed before the kill, acknowledgement lost.
    pub(super) saves_replayed: u64,
    pub(super) submits_retried: u64,
}

impl Counts {
    pub(super) fn add(&mut self, o: Counts) {
        self.starts_retried += o.starts_retried;
        self.saves_retried += o.saves_retried;
        self.saves_replayed += o.saves_replayed;
        self.submits_retried += o.submits_retried;
    }
}

/// One client: sessions one after another, each saving every answer of an example in 3–5
/// batches (each batch after the first also overwrites 1–3 earlier items with another valid
/// value), then submitting. Stops at a step boundary once `stop` is set, so every step it
/// began is acknowledged (possibly after retries) and sessions may be left open.
pub(super) async fn client_loop(
    backend: &'static str,
    k: usize,
    seed: u64,
    shared: Arc<Shared>,
    examples: Arc<Examples>,
) -> (Vec<Ledger>, Counts) {
    let mut rng = Rng(seed ^ (k as u64 + 1).wrapping_mul(0xA24B_AED4_963E_E407));
    // Every value an item takes in the examples, for the overwrites.
    let mut values: HashMap<&str, Vec<&str>> = HashMap::new();
    for (_, answers) in examples.iter() {
        for (item, value) in answers {
            let v = values.entry(item).or_default();
            if !v.contains(&value.as_str()) {
                v.push(value);
            }
        }
    }
    let mut client = Client::new(shared.clone());
    let mut ledgers = Vec::new();
    let mut counts = Counts::default();
    let respondent = format!("durability-{k}");
    let mut n = 0;
    while !shared.stop.load(Ordering::SeqCst) {
        let (org_unit, answers) = &examples[(k + n * CLIENTS) % examples.len()];
        let start = api::StartSessionRequest {
            instrument: Some(api::InstrumentRef {
                id: INSTRUMENT.into(),
                version: String::new(),
            }),
            respondent_id: respondent.clone(),
            org_unit: org_unit.clone(),
        };
        let what = format!("{backend}: client {k} session {n}: StartSession");
        let (started, failed) = match client
            .call(&what, |mut c| {
                let r = authorized(start.clone());
                async move { c.start_session(r).await }
            })
            .await
        {
            Ok(ok) => ok,
            Err((status, _)) => panic!("{what} refused by a live server: {status:?}"),
        };
        shared.acks.fetch_add(1, Ordering::SeqCst);
        counts.starts_retried += u64::from(failed > 0);
        let mut ledger = Ledger {
            client: k,
            session_id: started.session_id,
            org_unit: org_unit.clone(),
            instrument_version: started.instrument.map(|i| i.version).unwrap_or_default(),
            saves: Vec::new(),
            answers: BTreeMap::new(),
            submit: Submit::No,
        };

        let batches = rng.range(3, 5) as usize;
        let mut stopped = false;
        for b in 0..batches {
            if shared.stop.load(Ordering::SeqCst) {
                stopped = true;
                break;
            }
            let (from, to) = (
                b * answers.len() / batches,
                (b + 1) * answers.len() / batches,
            );
            let mut batch: Vec<(String, String)> = answers[from..to].to_vec();
            if b > 0 {
                // Overwrite a few earlier items with another valid value.
                let mut chosen = BTreeSet::new();
                for _ in 0..rng.range(1, 3) {
                    chosen.insert(rng.range(0, from as u64 - 1) as usize);
                }
                for i in chosen {
                    let item = &answers[i].0;
                    let current = &ledger.answers[item];
                    let options = &values[item.as_str()];
                    let pick = options[rng.range(0, options.len() as u64 - 1) as usize];
                    let value = if pick != current.as_str() {
                        pick
                    } else {
                        options
                            .iter()
                            .copied()
                            .find(|v| *v != current.as_str())
                            .unwrap_or(pick)
                    };
                    batch.push((item.clone(), value.to_owned()));
                }
            }
            let request = api::SaveAnswersRequest {
                session_id: ledger.session_id.clone(),
                request_id: format!("c{k}-s{n}-b{b}"),
                answers: batch
                    .iter()
                    .map(|(item_id, value)| api::Answer {
                        item_id: item_id.clone(),
                        value: value.clone(),
                    })
                    .collect(),
            };
            let what = format!(
                "{backend}: client {k}: SaveAnswers '{}' of session {}",
                request.request_id, ledger.session_id
            );
            let (saved, failed) = match client
                .call(&what, |mut c| {
                    let r = authorized(request.clone());
                    async move { c.save_answers(r).await }
                })
                .await
            {
                Ok(ok) => ok,
                Err((status, failed)) => panic!(
                    "{what} refused by a live server (after {failed} attempts lost to kills): \
                     {status:?}"
                ),
            };
            shared.acks.fetch_add(1, Ordering::SeqCst);
            shared.saves.fetch_add(1, Ordering::SeqCst);
            assert!(
                !saved.replayed || failed > 0,
                "{what}: a new request id was answered `replayed` at its first attempt"
            );
            counts.saves_retried += u64::from(failed > 0);
            counts.saves_replayed += u64::from(saved.replayed);
            for (item, value) in &batch {
                ledger.answers.insert(item.clone(), value.clone());
            }
            assert_eq!(
                saved.answers_stored as usize,
                ledger.answers.len(),
                "{what}: the server counts another number of stored answers than were \
                 acknowledged (replayed: {}, attempts lost: {failed})",
                saved.replayed
            );
            ledger.saves.push(Save {
                request_id: request.request_id,
                answers: batch,
            });
        }

        if !stopped && !shared.stop.load(Ordering::SeqCst) {
            let request = api::SubmitSessionRequest {
                session_id: ledger.session_id.clone(),
                language: "en".into(),
                end_early: false,
            };
            let what = format!(
                "{backend}: client {k}: SubmitSession of session {}",
                ledger.session_id
            );
            match client
                .call(&what, |mut c| {
                    let r = authorized(request.clone());
                    async move { c.submit_session(r).await }
                })
                .await
            {
                Ok((submitted, failed)) => {
                    counts.submits_retried += u64::from(failed > 0);
                    assert_eq!(submitted.revision, 1, "{what}");
                    let result = submitted
                        .result
                        .unwrap_or_else(|| panic!("{what}: acknowledged without a result"));
                    assert!(result.index.is_some(), "{what}: no index: {result:?}");
                    shared.submits.fetch_add(1, Ordering::SeqCst);
                    ledger.submit = Submit::Acked(Box::new(result));
                }
                Err((status, failed))
                    if failed > 0 && status.code() == Code::FailedPrecondition =>
                {
                    counts.submits_retried += 1;
                    ledger.submit = Submit::AckLost;
                }
                Err((status, failed)) => panic!(
                    "{what} refused by a live server (after {failed} attempts lost to kills): \
                     {status:?}"
                ),
            }
            shared.acks.fetch_add(1, Ordering::SeqCst);
        }
        ledgers.push(ledger);
        n += 1;
    }
    (ledgers, counts)
}
