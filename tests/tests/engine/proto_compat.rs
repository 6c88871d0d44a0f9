//! The protobuf contracts only evolve compatibly: `proto/ikd/plugin/v1` (what
//! plugins speak) and `proto/ikd/v1` (what gRPC clients speak) against the
//! copies of the last release in `proto/releases/<version>/`.
//!
//! Allowed: new messages, new fields with new numbers, new enum values, new
//! files. Refused: a message, enum, field or enum value that disappears without
//! its number being reserved; a field whose number now has another name, type
//! or cardinality; a new field on a reserved number or name. Making a release:
//! copy `proto/ikd` to `proto/releases/<version>/ikd`, and update `RELEASE`.

use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{DescriptorProto, EnumDescriptorProto, FileDescriptorSet};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The last release, whose contracts must keep working.
const RELEASE: &str = "0.1.0";

/// The contracts, by the files that import the rest.
const CONTRACTS: [&[&str]; 2] = [
    &["ikd/plugin/v1/plugin.proto", "ikd/plugin/v1/process.proto"],
    &[
        "ikd/v1/assessment.proto",
        "ikd/v1/admin.proto",
        "ikd/v1/report.proto",
    ],
];

/// Compiles those of `files` that exist under `root` (a release may predate a file).
fn compile(root: &Path, files: &[&str]) -> FileDescriptorSet {
    let paths: Vec<PathBuf> = files
        .iter()
        .map(|f| root.join(f))
        .filter(|p| p.is_file())
        .collect();
    protox::compile(&paths, [root]).unwrap_or_else(|e| panic!("{}: {e:?}", root.display()))
}

/// Every message and enum by full name (nested ones included).
#[derive(Default)]
struct Types {
    messages: BTreeMap<String, DescriptorProto>,
    enums: BTreeMap<String, EnumDescriptorProto>,
}

impl Types {
    fn of(set: &FileDescriptorSet) -> Types {
        let mut types = Types::default();
        for file in &set.file {
            if file.package().starts_with("google.") {
                continue;
            }
            let scope = format!(".{}", file.package());
            for m in &file.message_type {
                types.add_message(&scope, m);
            }
            for e in &file.enum_type {
                types
                    .enums
                    .insert(format!("{scope}.{}", e.name()), e.clone());
            }
        }
        types
    }

    fn add_message(&mut self, scope: &str, m: &DescriptorProto) {
        let name = format!("{scope}.{}", m.name());
        for nested in &m.nested_type {
            self.add_message(&name, nested);
        }
        for e in &m.enum_type {
            self.enums.insert(format!("{name}.{}", e.name()), e.clone());
        }
        self.messages.insert(name, m.clone());
    }
}

fn reserved_number(m: &DescriptorProto, number: i32) -> bool {
    // Message reserved ranges are [start, end) in descriptors.
    m.reserved_range
        .iter()
        .any(|r| (r.start()..r.end()).contains(&number))
}

fn enum_reserved_number(e: &EnumDescriptorProto, number: i32) -> bool {
    // Enum reserved ranges are inclusive.
    e.reserved_range
        .iter()
        .any(|r| (r.start()..=r.end()).contains(&number))
}

/// Every incompatible change from `old` to `new`, described.
fn breaking_changes(old: &FileDescriptorSet, new: &FileDescriptorSet) -> Vec<String> {
    let (old, new) = (Types::of(old), Types::of(new));
    let mut problems = Vec::new();
    for (name, was) in &old.messages {
        let Some(now) = new.messages.get(name) else {
            problems.push(format!("message {name} was removed"));
            continue;
        };
        for field in &was.field {
            let number = field.number();
            match now.field.iter().find(|f| f.number() == number) {
                None if !reserved_number(now, number) => problems.push(format!(
                    "{name}.{} (field {number}) was removed without reserving its number",
                    field.name()
                )),
                None => {}
                Some(f) => {
                    if f.name() != field.name() {
                        problems.push(format!(
                            "{name}: field {number} was renamed from {} to {}",
                            field.name(),
                            f.name()
                        ));
                    }
                    if f.r#type() != field.r#type() || f.type_name() != field.type_name() {
                        problems.push(format!(
                            "{name}.{}: type changed from {:?} {} to {:?} {}",
                            field.name(),
                            field.r#type(),
                            field.type_name(),
                            f.r#type(),
                            f.type_name()
                        ));
                    }
                    let repeated = |l: Label| l == Label::Repeated;
                    if repeated(f.label()) != repeated(field.label()) {
                        problems.push(format!(
                            "{name}.{}: changed between repeated and singular",
                            field.name()
                        ));
                    }
                    if f.oneof_index.is_some() != field.oneof_index.is_some()
                        && field.r#type() != Type::Message
                    {
                        problems.push(format!(
                            "{name}.{}: moved into or out of a oneof",
                            field.name()
                        ));
                    }
                }
            }
        }
        for field in &now.field {
            let existed = was.field.iter().any(|f| f.number() == field.number());
            if !existed
                && (reserved_number(was, field.number())
                    || was.reserved_name.iter().any(|n| n == field.name()))
            {
                problems.push(format!(
                    "{name}.{} (field {}) reuses a reserved number or name",
                    field.name(),
                    field.number()
                ));
            }
        }
    }
    for (name, was) in &old.enums {
        let Some(now) = new.enums.get(name) else {
            problems.push(format!("enum {name} was removed"));
            continue;
        };
        for value in &was.value {
            match now.value.iter().find(|v| v.number() == value.number()) {
                None if !enum_reserved_number(now, value.number()) => problems.push(format!(
                    "{name}.{} ({}) was removed without reserving its number",
                    value.name(),
                    value.number()
                )),
                Some(v) if v.name() != value.name() => problems.push(format!(
                    "{name}: value {} was renamed from {} to {}",
                    value.number(),
                    value.name(),
                    v.name()
                )),
                _ => {}
            }
        }
    }
    problems
}

#[test]
fn the_contracts_evolve_compatibly_since_the_last_release() {
    let root = ikd_tests::workspace().join("proto");
    let release = root.join("releases").join(RELEASE);
    for files in CONTRACTS {
        let problems = breaking_changes(&compile(&release, files), &compile(&root, files));
        assert!(
            problems.is_empty(),
            "{files:?} changed incompatibly since release {RELEASE}:\n{}",
            problems.join("\n")
        );
    }
}

/// The checker itself: each kind of break is caught, and compatible growth is not.
#[test]
fn the_checker_catches_each_kind_of_break() {
    let base = r#"syntax = "proto3";
package t.v1;
message M {
  string a = 1;
  repeated int32 b = 2;
  reserved 9;
  reserved "gone";
  enum Kind { KIND_UNSPECIFIED = 0; KIND_X = 1; }
  Kind kind = 3;
}
message Other { uint32 n = 1; }
"#;
    let check = |changed: &str| {
        let dir = tempfile::tempdir().unwrap();
        let (old, new) = (dir.path().join("old/t/v1"), dir.path().join("new/t/v1"));
        std::fs::create_dir_all(&old).unwrap();
        std::fs::create_dir_all(&new).unwrap();
        std::fs::write(old.join("t.proto"), base).unwrap();
        std::fs::write(new.join("t.proto"), changed).unwrap();
        breaking_changes(
            &compile(&dir.path().join("old"), &["t/v1/t.proto"]),
            &compile(&dir.path().join("new"), &["t/v1/t.proto"]),
        )
    };
    let grown = base
        .replace("Kind kind = 3;", "Kind kind = 3;\n  double c = 4;")
        .replace("KIND_X = 1;", "KIND_X = 1; KIND_Y = 2;")
        .replace(
            "message Other",
            "message Added { bool x = 1; }\nmessage Other",
        );
    assert_eq!(check(&grown), Vec::<String>::new());
    let retired = base.replace("string a = 1;", "reserved 1;");
    assert_eq!(check(&retired), Vec::<String>::new());

    let cases = [
        (
            base.replace("string a = 1;", ""),
            "was removed without reserving",
        ),
        (
            base.replace("string a = 1;", "string alpha = 1;"),
            "renamed",
        ),
        (
            base.replace("string a = 1;", "bytes a = 1;"),
            "type changed",
        ),
        (
            base.replace("repeated int32 b", "int32 b"),
            "repeated and singular",
        ),
        (
            base.replace("reserved 9;", "bool old = 9;"),
            "reuses a reserved",
        ),
        (
            base.replace("reserved \"gone\";", "string gone = 11;"),
            "reuses a reserved",
        ),
        (
            base.replace("message Other { uint32 n = 1; }", ""),
            "message .t.v1.Other was removed",
        ),
        (base.replace(" KIND_X = 1;", ""), "KIND_X (1) was removed"),
    ];
    for (changed, expected) in &cases {
        let problems = check(changed);
        assert!(
            problems.iter().any(|p| p.contains(expected)),
            "expected a problem containing {expected:?}, got {problems:?}"
        );
    }
}
