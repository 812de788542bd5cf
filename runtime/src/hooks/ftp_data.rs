//! FTP data connection: no header, the whole segment is data. The session
//! (`runtime/src/flow/bindings.rs`) fills in the frame that announced the connection and
//! the command the data answers; the bytes alone tell neither.

use crate::protocols::ftp_data::FtpData;

/// Takes the whole segment as data.
pub fn parse(input: &[u8]) -> Result<(FtpData, usize), String> {
    let data = FtpData {
        len: u32::try_from(input.len()).unwrap_or(u32::MAX),
        ..FtpData::default()
    };
    Ok((data, input.len()))
}
