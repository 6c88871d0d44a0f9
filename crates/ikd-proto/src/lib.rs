//! # ikd-proto
//!
//! The public gRPC API of an IKD server, generated from `proto/ikd/v1` with
//! tonic and prost. Services call it from any language; from Rust:
//!
//! ```no_run
//! use ikd_proto::v1::{assessment_service_client::AssessmentServiceClient, ListInstrumentsRequest};
//! use tonic::{Request, metadata::MetadataValue};
//!
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let mut client = AssessmentServiceClient::connect("http://127.0.0.1:50051").await?;
//! let mut request = Request::new(ListInstrumentsRequest {});
//! request
//!     .metadata_mut()
//!     .insert("authorization", MetadataValue::try_from("Bearer <token>")?);
//! for instrument in client.list_instruments(request).await?.into_inner().instruments {
//!     println!("{} {}", instrument.id, instrument.version);
//! }
//! # Ok(())
//! # }
//! ```

pub mod codec;

/// `ikd.v1`: `AssessmentService`, `AdminService` and `ReportService`.
#[allow(clippy::large_enum_variant)]
// generated; a stream outcome is one message either way
// The docs are the .proto comments, written for readers of the proto: `<id>`
// placeholders and plain URLs are text there, not HTML or links.
#[allow(
    rustdoc::invalid_html_tags,
    rustdoc::bare_urls,
    rustdoc::broken_intra_doc_links
)]
pub mod v1 {
    tonic::include_proto!("ikd.v1");
}

/// The encoded `FileDescriptorSet` of `proto/ikd/v1`, for server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/ikd_v1_descriptor.bin"));
