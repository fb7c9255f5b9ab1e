//! Errors as clients see them: a message naming the offending value and a stable
//! `extensions.code`. Domain and gateway errors keep their own code (`DomainError::code`,
//! `CommandError::code`); malformed ids and values are `BAD_USER_INPUT`.

use async_graphql::{Error, ErrorExtensions, ID};
use std::str::FromStr;
use suivi_domain::values::Hundredths;
use suivi_projections::gateway::{BatchError, CommandError};

pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
pub const NOT_FOUND: &str = "NOT_FOUND";
pub const FORBIDDEN: &str = "FORBIDDEN";
pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
pub const INTERNAL: &str = "INTERNAL";
pub const UNAVAILABLE: &str = "UNAVAILABLE";
pub const RATE_LIMITED: &str = "RATE_LIMITED";
pub const TIMEOUT: &str = "TIMEOUT";
pub const PAYLOAD_TOO_LARGE: &str = "PAYLOAD_TOO_LARGE";
/// A subscription ended because its identity no longer reaches what it follows.
pub const SCOPE_LOST: &str = "SCOPE_LOST";

/// An error with a message and a `code` extension.
pub fn coded(code: &'static str, message: impl Into<String>) -> Error {
    Error::new(message).extend_with(|_, ext| ext.set("code", code))
}

/// A write refused because the identity sent too many: when to try again.
pub fn rate_limited(retry_after: std::time::Duration) -> Error {
    let ms = u64::try_from(retry_after.as_millis())
        .unwrap_or(u64::MAX)
        .max(1);
    Error::new(format!(
        "too many writes from this user: wait {ms} ms and send it again (nothing was written)"
    ))
    .extend_with(|_, ext| {
        ext.set("code", RATE_LIMITED);
        ext.set("retryAfterMs", ms);
    })
}

pub fn bad_input(message: impl Into<String>) -> Error {
    coded(BAD_USER_INPUT, message)
}

pub fn not_found(kind: &str, id: impl std::fmt::Display) -> Error {
    coded(NOT_FOUND, format!("unknown {kind} {id}"))
}

/// A refused command: the domain's message and code. Store failures are logged and
/// reported without their detail.
pub fn command(error: CommandError) -> Error {
    let code = error.code();
    if code == INTERNAL {
        tracing::error!(error = %error, "command failed in the store");
        return coded(
            INTERNAL,
            "the command could not be stored; nothing was written",
        );
    }
    coded(code, error.to_string())
}

pub fn batch(error: BatchError) -> Error {
    let index = error.index;
    let inner = command(error.error);
    let message = format!("item {index}: {}", inner.message);
    Error { message, ..inner }.extend_with(|_, ext| ext.set("index", index as i32))
}

/// Parses a GraphQL `ID` into a typed id, naming the argument when it is not a UUID.
pub fn parse_id<T: FromStr>(field: &str, id: &ID) -> Result<T, Error> {
    id.as_str().trim().parse::<T>().map_err(|_| {
        bad_input(format!(
            "{field} {:?} is not a valid id (a UUID such as 0193a6a4-0000-7000-8000-000000000001)",
            id.as_str()
        ))
    })
}

pub fn parse_opt_id<T: FromStr>(field: &str, id: Option<&ID>) -> Result<Option<T>, Error> {
    id.map(|id| parse_id(field, id)).transpose()
}

/// A new entity's id: the client's, or a fresh UUID v7.
pub fn id_or_new<T: FromStr + From<uuid::Uuid>>(field: &str, id: Option<&ID>) -> Result<T, Error> {
    Ok(parse_opt_id(field, id)?.unwrap_or_else(|| T::from(uuid::Uuid::now_v7())))
}

/// As `id_or_new`, for a mutation sent with an idempotency key: an id the client left out
/// is derived from the key and `field` (a name-based UUID), so that a retry, answered
/// from the log, names the entity the first request created rather than a new one.
pub fn id_or_keyed<T: FromStr + From<uuid::Uuid>>(
    field: &str,
    id: Option<&ID>,
    idempotency_key: Option<&ID>,
) -> Result<T, Error> {
    if let Some(id) = parse_opt_id(field, id)? {
        return Ok(id);
    }
    let key = idempotency_key.and_then(|k| k.as_str().trim().parse::<uuid::Uuid>().ok());
    Ok(T::from(match key {
        Some(key) => uuid::Uuid::new_v5(&key, field.as_bytes()),
        None => uuid::Uuid::now_v7(),
    }))
}

/// A GraphQL `Int` narrowed to a smaller unsigned type, naming the field when out of range.
pub fn narrow<T>(field: &str, value: i64, max: T) -> Result<T, Error>
where
    T: TryFrom<i64> + std::fmt::Display,
{
    T::try_from(value).map_err(|_| {
        bad_input(format!(
            "{field} {value} is out of range: it must be between 0 and {max}"
        ))
    })
}

/// A decimal with at most two decimals ("12.5", "12,5", "0.75"), as hundredths.
pub fn parse_hundredths(field: &str, text: &str) -> Result<Hundredths, Error> {
    Hundredths::parse(text).ok_or_else(|| {
        bad_input(format!(
            "{field} {text:?} is not a non-negative number with at most two decimals (e.g. \"12.5\")"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use suivi_domain::ids::PupilId;

    fn code(e: &Error) -> Option<String> {
        e.extensions
            .as_ref()
            .and_then(|x| x.get("code"))
            .map(|v| v.to_string())
    }

    #[test]
    fn malformed_ids_name_the_field_and_value() {
        let e = parse_id::<PupilId>("pupilId", &ID::from("nope")).unwrap_err();
        assert!(e.message.contains("pupilId"));
        assert!(e.message.contains("\"nope\""));
        assert_eq!(code(&e).as_deref(), Some("\"BAD_USER_INPUT\""));
    }

    #[test]
    fn narrowing_names_the_bounds() {
        assert_eq!(narrow::<u16>("scale", 20, u16::MAX).ok(), Some(20));
        let e = narrow::<u16>("scale", 70_000, u16::MAX).unwrap_err();
        assert!(e.message.contains("70000"));
        assert!(narrow::<u16>("scale", -1, u16::MAX).is_err());
    }

    #[test]
    fn decimals_have_two_places_at_most() {
        assert_eq!(
            parse_hundredths("score", "12,5").ok(),
            Some(Hundredths(1250))
        );
        assert!(parse_hundredths("score", "12.345")
            .unwrap_err()
            .message
            .contains("12.345"));
    }
}
