//! The codec of the generated services: prost's, except that a message that
//! does not decode is `INVALID_ARGUMENT`.
//!
//! tonic-prost answers an undecodable message with `INTERNAL`, which tells a
//! client the server is broken when the client sent bad bytes. The server is
//! where every request is decoded, so the sender is at fault; the same codec
//! in a client reports a malformed *response* the same way, naming it.

use std::marker::PhantomData;
use tonic::Status;
use tonic::codec::{BufferSettings, Codec, DecodeBuf, Decoder};
use tonic_prost::{ProstCodec, ProstDecoder, ProstEncoder};

/// [`ProstCodec`] with undecodable messages answered as `INVALID_ARGUMENT`.
#[derive(Debug, Clone, Default)]
pub struct IkdCodec<T, U>(PhantomData<(T, U)>);

impl<T, U> IkdCodec<T, U> {
    pub fn new() -> Self {
        IkdCodec(PhantomData)
    }
}

impl<T, U> Codec for IkdCodec<T, U>
where
    T: prost::Message + Send + 'static,
    U: prost::Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProstEncoder<T>;
    type Decoder = IkdDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        ProstCodec::<T, U>::raw_encoder(BufferSettings::default())
    }

    fn decoder(&mut self) -> Self::Decoder {
        IkdDecoder(ProstCodec::<T, U>::raw_decoder(BufferSettings::default()))
    }
}

/// prost's decoder with decode failures turned into `INVALID_ARGUMENT`.
#[derive(Debug, Clone)]
pub struct IkdDecoder<U>(ProstDecoder<U>);

impl<U: prost::Message + Default> Decoder for IkdDecoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        // prost's text: "failed to decode Protobuf message: <field>: <why>".
        self.0
            .decode(buf)
            .map_err(|status| Status::invalid_argument(status.message()))
    }

    fn buffer_settings(&self) -> BufferSettings {
        self.0.buffer_settings()
    }
}
