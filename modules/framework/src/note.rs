//! Why a privileged account acted: a reason code and a reference (legal basis,
//! case number), recorded in the action's indexed event so a compliance officer
//! can prove every freeze, clawback or sanction to a regulator. Each module
//! reports a bad note with its own codes ([`NoteError`]).

/// Longest reason code and reference (bytes).
pub const MAX_REASON_LEN: usize = 64;
pub const MAX_REFERENCE_LEN: usize = 140;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Note {
    pub reason: String,
    pub reference: String,
}

/// What is wrong with a note, with a message for the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NoteError {
    InvalidReason(String),
    ReferenceTooLong(String),
    InvalidReference(String),
}

impl NoteError {
    /// The error in a module's codespace, given its three codes' constructors.
    pub fn to_sdk(
        self,
        invalid_reason: impl FnOnce(String) -> crate::SdkError,
        reference_too_long: impl FnOnce(String) -> crate::SdkError,
        invalid_reference: impl FnOnce(String) -> crate::SdkError,
    ) -> crate::SdkError {
        match self {
            NoteError::InvalidReason(m) => invalid_reason(m),
            NoteError::ReferenceTooLong(m) => reference_too_long(m),
            NoteError::InvalidReference(m) => invalid_reference(m),
        }
    }
}

impl Note {
    /// The reason is required (1–64 bytes of `[a-z0-9_.-]`); the reference is
    /// optional, at most 140 bytes, without control characters.
    pub fn new(reason: &str, reference: &str) -> Result<Self, NoteError> {
        let ok = (1..=MAX_REASON_LEN).contains(&reason.len())
            && reason.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-".contains(&b));
        if !ok {
            return Err(NoteError::InvalidReason(format!(
                "reason must be 1 to {MAX_REASON_LEN} bytes of [a-z0-9_.-], got {reason:?}"
            )));
        }
        if reference.len() > MAX_REFERENCE_LEN {
            return Err(NoteError::ReferenceTooLong(format!(
                "reference is {} bytes, at most {MAX_REFERENCE_LEN}",
                reference.len()
            )));
        }
        if let Some(c) = reference.chars().find(|c| c.is_control()) {
            return Err(NoteError::InvalidReference(format!("reference contains the control character {c:?}")));
        }
        Ok(Self { reason: reason.to_string(), reference: reference.to_string() })
    }
}
