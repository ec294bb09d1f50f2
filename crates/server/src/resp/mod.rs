//! The RESP protocol: an incremental request parser (RESP multibulk and
//! inline commands) and a reply writer for RESP2/RESP3, both byte-exact with
//! Valkey.

pub mod parser;
pub mod reply;

pub use parser::{
    ArgList, Args, ArgsIter, OwnedArgs, ParseLimits, Parsed, ProtocolError, RequestParser,
};
pub use reply::{Deferred, Protocol, Reply};
