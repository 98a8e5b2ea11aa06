//! The ABCI socket server CometBFT connects to: its four connections (consensus, mempool,
//! query, snapshot), one thread each, speaking the socket protocol (each message a protobuf
//! `Request`/`Response` after its length as an unsigned varint).
//!
//! Why our own rather than tendermint-abci's: CometBFT's socket client sends CheckTx requests
//! without waiting for their answers, so while the app works on some, more queue up and the
//! mempool connection receives many requests at once. This server takes every complete
//! request that has arrived, verifies the signatures of the new CheckTx among them in
//! parallel ([`App::preverify_check_txs`]), then answers every request in order and flushes
//! once. Answers, their order and what CheckTx decides are exactly as before: only the
//! signature work runs beside each other, and each new CheckTx takes the tx as the pass decoded
//! it rather than decoding it again. It also decodes without copying the read buffer per
//! message and answers a request without a body with an exception instead of panicking.
//!
//! [`App::preverify_check_txs`]: paychain_app::app::App::preverify_check_txs

use std::io::{BufWriter, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};

use bytes::{Buf, BytesMut};
use prost::Message as _;
use tendermint_abci::Application;
use tendermint_proto::v0_38::abci::{request, response, CheckTxType, Request, Response, ResponseException};

use crate::abci::AbciApp;

/// Bytes asked of the socket per read: a burst of CheckTx requests fits.
const READ_CHUNK: usize = 1 << 20;
/// A request longer than this is refused and the connection closed (a block of
/// `block.max_bytes` ≤ 100 MiB, CometBFT's own ceiling, plus its framing).
const MAX_REQUEST_BYTES: u64 = 128 << 20;

pub struct AbciServer {
    listener: TcpListener,
    app: AbciApp,
}

impl AbciServer {
    pub fn bind(addr: SocketAddr, app: AbciApp) -> std::io::Result<Self> {
        Ok(Self { listener: TcpListener::bind(addr)?, app })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Accepts connections until the listener fails; each is served on its own thread.
    pub fn listen(self) -> std::io::Result<()> {
        loop {
            let (stream, peer) = self.listener.accept()?;
            let app = self.app.clone();
            std::thread::Builder::new().name("abci-conn".into()).spawn(move || {
                match serve_connection(stream, &app) {
                    Ok(()) => tracing::info!(%peer, "ABCI connection closed"),
                    Err(e) => tracing::error!(%peer, "ABCI connection failed: {e}"),
                }
            })?;
        }
    }
}

/// Serves one connection until CometBFT closes it.
fn serve_connection(stream: TcpStream, app: &AbciApp) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut reader = stream.try_clone()?;
    let mut writer = BufWriter::with_capacity(64 << 10, stream);
    let mut buf = BytesMut::with_capacity(READ_CHUNK);
    let mut chunk = vec![0u8; READ_CHUNK];
    let mut encoded = Vec::new();
    loop {
        let requests = loop {
            let requests = decode_requests(&mut buf)?;
            if !requests.is_empty() {
                break requests;
            }
            let n = match reader.read(&mut chunk) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            buf.extend_from_slice(&chunk[..n]);
        };
        let new_txs: Vec<&[u8]> = requests
            .iter()
            .filter_map(|r| match &r.value {
                Some(request::Value::CheckTx(c)) if c.r#type == CheckTxType::New as i32 => Some(&c.tx[..]),
                _ => None,
            })
            .collect();
        // Each new CheckTx takes its decoding from the pass, in the same order as `new_txs`.
        let mut decoded = app.app.preverify_check_txs(&new_txs).into_iter();
        for request in requests {
            encoded.clear();
            let response = match request.value {
                Some(request::Value::CheckTx(c)) if c.r#type == CheckTxType::New as i32 => {
                    Response { value: Some(response::Value::CheckTx(app.check_tx_with(c, decoded.next().flatten()))) }
                }
                value => dispatch(app, Request { value }),
            };
            response.encode_length_delimited(&mut encoded).map_err(std::io::Error::other)?;
            writer.write_all(&encoded)?;
        }
        writer.flush()?;
    }
}

/// Every complete request at the front of `buf`, removed from it; an incomplete one stays.
fn decode_requests(buf: &mut BytesMut) -> std::io::Result<Vec<Request>> {
    let mut out = Vec::new();
    loop {
        let mut peek = &buf[..];
        let len = match prost::encoding::decode_varint(&mut peek) {
            Ok(len) => len,
            // An unsigned varint is at most 10 bytes: fewer may be a prefix still arriving.
            Err(_) if buf.len() < 10 => return Ok(out),
            Err(e) => return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, e)),
        };
        if len > MAX_REQUEST_BYTES {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("an ABCI request of {len} bytes (at most {MAX_REQUEST_BYTES})"),
            ));
        }
        let header = buf.len() - peek.len();
        let len = len as usize;
        if peek.len() < len {
            return Ok(out);
        }
        let request =
            Request::decode(&peek[..len]).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        buf.advance(header + len);
        out.push(request);
    }
}

/// The app's answer to one request.
fn dispatch(app: &AbciApp, request: Request) -> Response {
    use request::Value as Q;
    use response::Value as A;
    let value = match request.value {
        None => A::Exception(ResponseException { error: "an ABCI request without a body".to_string() }),
        Some(Q::Echo(r)) => A::Echo(app.echo(r)),
        Some(Q::Flush(_)) => A::Flush(app.flush()),
        Some(Q::Info(r)) => A::Info(app.info(r)),
        Some(Q::InitChain(r)) => A::InitChain(app.init_chain(r)),
        Some(Q::Query(r)) => A::Query(app.query(r)),
        Some(Q::CheckTx(r)) => A::CheckTx(app.check_tx(r)),
        Some(Q::Commit(_)) => A::Commit(app.commit()),
        Some(Q::ListSnapshots(_)) => A::ListSnapshots(app.list_snapshots()),
        Some(Q::OfferSnapshot(r)) => A::OfferSnapshot(app.offer_snapshot(r)),
        Some(Q::LoadSnapshotChunk(r)) => A::LoadSnapshotChunk(app.load_snapshot_chunk(r)),
        Some(Q::ApplySnapshotChunk(r)) => A::ApplySnapshotChunk(app.apply_snapshot_chunk(r)),
        Some(Q::PrepareProposal(r)) => A::PrepareProposal(app.prepare_proposal(r)),
        Some(Q::ProcessProposal(r)) => A::ProcessProposal(app.process_proposal(r)),
        Some(Q::ExtendVote(r)) => A::ExtendVote(app.extend_vote(r)),
        Some(Q::VerifyVoteExtension(r)) => A::VerifyVoteExtension(app.verify_vote_extension(r)),
        Some(Q::FinalizeBlock(r)) => A::FinalizeBlock(app.finalize_block(r)),
    };
    Response { value: Some(value) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tendermint_proto::v0_38::abci::{RequestCheckTx, RequestEcho};

    fn framed(requests: &[Request]) -> Vec<u8> {
        let mut out = Vec::new();
        for r in requests {
            r.encode_length_delimited(&mut out).unwrap();
        }
        out
    }

    fn check_tx(tx: &[u8]) -> Request {
        Request {
            value: Some(request::Value::CheckTx(RequestCheckTx {
                tx: tx.to_vec().into(),
                r#type: CheckTxType::New as i32,
            })),
        }
    }

    #[test]
    fn complete_requests_are_taken_in_order_and_a_partial_one_waits() {
        let requests = vec![
            check_tx(b"a"),
            check_tx(&[7u8; 300]),
            Request { value: Some(request::Value::Echo(RequestEcho { message: "e".into() })) },
        ];
        let bytes = framed(&requests);
        // Every split point: the complete prefix decodes, the rest waits for more bytes.
        for cut in 0..=bytes.len() {
            let mut buf = BytesMut::from(&bytes[..cut]);
            let mut got = decode_requests(&mut buf).unwrap();
            buf.extend_from_slice(&bytes[cut..]);
            got.extend(decode_requests(&mut buf).unwrap());
            assert_eq!(got, requests, "cut at {cut}");
            assert!(buf.is_empty());
        }
    }

    #[test]
    fn a_malformed_or_oversized_frame_is_an_error() {
        let mut huge = BytesMut::new();
        prost::encoding::encode_varint(MAX_REQUEST_BYTES + 1, &mut huge);
        assert!(decode_requests(&mut huge).is_err());
        let mut bad_varint = BytesMut::from(&[0xffu8; 11][..]);
        assert!(decode_requests(&mut bad_varint).is_err());
        let mut garbage = BytesMut::new();
        prost::encoding::encode_varint(3, &mut garbage);
        garbage.extend_from_slice(&[0xff, 0xff, 0xff]);
        assert!(decode_requests(&mut garbage).is_err());
    }
}
