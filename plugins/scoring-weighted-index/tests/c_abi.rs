//! The plugin through its exported C ABI, as the engine sees it: entry point,
//! vtable, `create`/`invoke` with protobuf bytes, `free_buf`, `destroy`. The
//! answer must equal the in-process one.

mod common;

use common::*;
use ikd_plugin_sdk::abi::{self, ByteView, HostApi, MAGIC, OwnedBuf, PluginVTableV1, status};
use ikd_plugin_sdk::proto::{PluginInfo, PluginKind, ScoreResponse};
use ikd_plugin_sdk::{ModelConfig, PluginError, ScoreOutput, ScoringModel};
use ikd_scoring_weighted_index::{WeightedIndex, ikd_plugin_entry_v1};
use prost::Message;
use std::ffi::c_void;

fn vtable() -> &'static PluginVTableV1 {
    let ptr = ikd_plugin_entry_v1();
    assert!(!ptr.is_null());
    // SAFETY: the entry point returns a pointer to a static vtable.
    unsafe { &*ptr }
}

/// Takes a buffer the plugin handed out, copies it and gives it back to `free_buf`.
fn take(vt: &PluginVTableV1, buf: OwnedBuf) -> Vec<u8> {
    // SAFETY: `buf` was just written by the plugin and is freed exactly once, below.
    let bytes = unsafe {
        ByteView {
            ptr: buf.ptr,
            len: buf.len,
        }
        .as_slice()
    }
    .to_vec();
    unsafe { (vt.free_buf.expect("free_buf slot"))(buf) };
    bytes
}

fn create(vt: &PluginVTableV1, config: &ModelConfig) -> Result<*mut c_void, (i32, PluginError)> {
    let host = HostApi {
        size: std::mem::size_of::<HostApi>() as u32,
        log: None,
    };
    let bytes = config.encode_to_vec();
    let mut instance: *mut c_void = std::ptr::null_mut();
    let mut out = OwnedBuf::EMPTY;
    // SAFETY: every pointer is valid for the call; the config bytes outlive it.
    let code = unsafe {
        (vt.create.expect("create slot"))(&host, ByteView::new(&bytes), &mut instance, &mut out)
    };
    let out = take(vt, out);
    if code == status::OK {
        assert!(!instance.is_null());
        Ok(instance)
    } else {
        Err((
            code,
            PluginError::decode(&out[..]).expect("an encoded PluginError"),
        ))
    }
}

fn invoke(
    vt: &PluginVTableV1,
    instance: *mut c_void,
    method: u32,
    request: &[u8],
) -> (i32, Vec<u8>) {
    let mut out = OwnedBuf::EMPTY;
    // SAFETY: `instance` is live; the request bytes outlive the call.
    let code = unsafe {
        (vt.invoke.expect("invoke slot"))(instance, method, ByteView::new(request), &mut out)
    };
    (code, take(vt, out))
}

fn the_config() -> ModelConfig {
    // Two domains (0.7 / 0.3); D1 has two indicators (weights 2 and 1) with one
    // Likert 1..5 item each, D2 one 0..1 item. min_answered 1, min_domains 1.
    config(
        vec![
            domain("D1", 0.7, &[("K1", 2.0), ("K2", 1.0)], 1, 0.0),
            domain("D2", 0.3, &[("K1", 1.0)], 1, 0.0),
        ],
        vec![
            item("a", 0, 0, 1.0, 1.0, 5.0),
            item("b", 0, 1, 1.0, 1.0, 5.0),
            item("c", 1, 0, 1.0, 0.0, 1.0),
        ],
        1,
    )
}

#[test]
fn scoring_through_the_c_abi_equals_scoring_in_process() {
    let vt = vtable();
    assert_eq!(vt.magic, MAGIC);
    assert_eq!(vt.abi_major, abi::ABI_MAJOR);
    assert_eq!(vt.size as usize, std::mem::size_of::<PluginVTableV1>());
    assert!(vt.destroy.is_some());

    // SAFETY: `info` points to bytes that live for the rest of the process.
    let info = PluginInfo::decode(unsafe { vt.info.as_slice() }).expect("encoded PluginInfo");
    assert_eq!(info.name, "weighted-index");
    assert_eq!(info.kind, PluginKind::ScoringModel as i32);
    assert_eq!(info.version, env!("CARGO_PKG_VERSION"));

    let config = the_config();
    let instance = create(vt, &config).expect("the instance is created");

    // r0: a = 5 (1.0), b = 2 (0.25) → D1 = 100·(2·1.0 + 1·0.25)/3 = 75; c = 1 → D2 = 100;
    //     index = 0.7·75 + 0.3·100 = 82.5.
    // r1: a skipped, b = 3 (0.5) → D1 = 50 (K1 absent); c not applicable → D2 missing;
    //     index = D1 alone = 50.
    // r2: don't know on c (score 0) → D2 = 0; a, b not applicable → D1 missing; index 0.
    let nan = f64::NAN;
    let request = request(&[
        &[(5.0, ANS), (2.0, ANS), (1.0, ANS)],
        &[(nan, SKIP), (3.0, ANS), (nan, NA)],
        &[(nan, NA), (nan, NA), (0.0, DK)],
    ]);
    let (code, bytes) = invoke(
        vt,
        instance,
        abi::method::MODEL_SCORE,
        &request.to_wire().encode_to_vec(),
    );
    assert_eq!(code, status::OK, "{:?}", PluginError::decode(&bytes[..]));
    let wire = ScoreResponse::decode(&bytes[..]).expect("an encoded ScoreResponse");
    let via_abi = ScoreOutput::from_wire(&wire).expect("arrays of the right size");

    let in_process = WeightedIndex::new(&config)
        .unwrap()
        .score(&request)
        .unwrap();
    assert_eq!(format!("{via_abi:?}"), format!("{in_process:?}"));
    assert_close(via_abi.domain_scores[0], 75.0);
    assert_close(via_abi.domain_scores[1], 100.0);
    assert_close(via_abi.index[0], 82.5);
    assert_close(via_abi.index[1], 50.0);
    assert!(via_abi.domain_scores[3].is_nan());
    assert_close(via_abi.index[2], 0.0);
    assert_eq!(via_abi.domain_levels, vec![2, 3, 1, -1, -1, 0]);
    assert_eq!(via_abi.index_levels, vec![3, 1, 0]);
    assert_eq!(via_abi.domain_answered, vec![2, 1, 1, 0, 0, 1]);

    // A refused batch comes back as status ERROR with an encoded PluginError.
    let mut short = request.clone();
    short.item_scores.pop();
    let (code, bytes) = invoke(
        vt,
        instance,
        abi::method::MODEL_SCORE,
        &short.to_wire().encode_to_vec(),
    );
    assert_eq!(code, status::BAD_REQUEST);
    let err = PluginError::decode(&bytes[..]).unwrap();
    assert!(
        err.message.contains("field 'item_scores' holds 64 bytes"),
        "{err}"
    );

    // Bytes that are no ScoreInput, and a method a model does not have.
    let (code, _) = invoke(vt, instance, abi::method::MODEL_SCORE, &[0xff, 0xff, 0xff]);
    assert_eq!(code, status::BAD_REQUEST);
    let (code, _) = invoke(vt, instance, abi::method::DOMAIN_DESCRIBE, &[]);
    assert_eq!(code, status::UNKNOWN_METHOD);

    // SAFETY: the instance came from `create` and is destroyed once.
    unsafe { (vt.destroy.unwrap())(instance) };
}

#[test]
fn a_bad_configuration_is_refused_through_the_c_abi_with_its_violations() {
    let vt = vtable();
    let mut config = the_config();
    config.items[1].score_max = 1.0; // b: 1..1
    let (code, err) = create(vt, &config).expect_err("the configuration is refused");
    assert_eq!(code, status::ERROR);
    assert_eq!(err.violations.len(), 1, "{err}");
    assert_eq!(err.violations[0].item, "b");
    assert_eq!(err.violations[0].field, "score_max");
}
