//! Protocol values as types: grant types, token endpoint auth methods, application types.
//!
//! Each is parsed once where a string enters (a request member, a form parameter, a stored
//! row) and compared as an enum everywhere else. Metadata keeps the wire string, so a value this
//! server does not know can be reported back by name; validation refuses it.

use std::fmt;

use serde::{Serialize, Serializer};

macro_rules! protocol_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$variant_meta:meta])* $variant:ident = $wire:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$variant_meta])* $variant,)+
        }

        impl $name {
            /// Every value, in the order discovery lists them.
            pub const ALL: &'static [Self] = &[$(Self::$variant,)+];

            /// The value a wire string names, if this server knows it.
            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($wire => Some(Self::$variant),)+
                    _ => None,
                }
            }

            /// The wire string.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $wire,)+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        /// The serialization above is written by hand, so is its schema: the wire strings.
        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($wire,)+]))
                    .into()
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}
    };
}

protocol_enum! {
    /// An OAuth 2.0 grant type (RFC 7591 §2).
    GrantType {
        /// RFC 6749 §4.1.
        AuthorizationCode = "authorization_code",
        /// RFC 6749 §4.2.
        Implicit = "implicit",
        /// RFC 6749 §6.
        RefreshToken = "refresh_token",
        /// RFC 6749 §4.4.
        ClientCredentials = "client_credentials",
    }
}

impl GrantType {
    /// Whether the grant sends the user agent back to a redirect URI.
    pub fn uses_redirects(self) -> bool {
        matches!(self, Self::AuthorizationCode | Self::Implicit)
    }
}

protocol_enum! {
    /// How a client authenticates at the token endpoint (RFC 7591 §2, OpenID Connect Core §9).
    AuthMethod {
        /// HTTP Basic with the client secret; RFC 7591's default.
        ClientSecretBasic = "client_secret_basic",
        /// The client secret in the form body.
        ClientSecretPost = "client_secret_post",
        /// An HMAC client assertion keyed with the client secret (RFC 7523).
        ClientSecretJwt = "client_secret_jwt",
        /// A client assertion signed with the client's private key (RFC 7523).
        PrivateKeyJwt = "private_key_jwt",
        /// A public client: no authentication.
        None = "none",
    }
}

impl AuthMethod {
    /// Whether the method authenticates with a shared secret the server issues.
    pub fn uses_secret(self) -> bool {
        matches!(
            self,
            Self::ClientSecretBasic | Self::ClientSecretPost | Self::ClientSecretJwt
        )
    }

    /// Whether the server needs the secret itself, not just its hash: HMAC assertions are
    /// verified with the key, so the secret is stored sealed.
    pub fn needs_stored_secret(self) -> bool {
        self == Self::ClientSecretJwt
    }
}

protocol_enum! {
    /// The kind of client (OpenID Connect DCR 1.0 §2).
    ApplicationType {
        /// A web application; the default.
        Web = "web",
        /// A native application (RFC 8252).
        Native = "native",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_round_trips_through_its_wire_string() {
        for grant_type in GrantType::ALL {
            assert_eq!(GrantType::parse(grant_type.as_str()), Some(*grant_type));
        }
        for method in AuthMethod::ALL {
            assert_eq!(AuthMethod::parse(method.as_str()), Some(*method));
        }
        for application_type in ApplicationType::ALL {
            assert_eq!(
                ApplicationType::parse(application_type.as_str()),
                Some(*application_type)
            );
        }
        assert_eq!(GrantType::parse("Authorization_Code"), None);
        assert_eq!(AuthMethod::parse(""), None);
        assert_eq!(
            serde_json::to_string(&AuthMethod::PrivateKeyJwt).unwrap(),
            "\"private_key_jwt\""
        );
    }
}
