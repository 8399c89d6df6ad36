//! `Processor`: defaults, the client identifier and the credentials, as overridable steps.

use std::fmt::Debug;

use async_trait::async_trait;

use crate::context::RegistrationContext;
use crate::ids::ClientId;
use crate::process;
use crate::secrets::Secret;
use crate::validate::StepResult;

/// Turns validated metadata into a client record and the credentials issued with it, for
/// registration and update.
#[async_trait]
pub trait Processor: Send + Sync + Debug {
    /// Runs every step in order, the record last.
    async fn process(&self, cx: &mut RegistrationContext) -> StepResult {
        self.apply_defaults(cx).await?;
        self.add_client_id(cx).await?;
        self.add_client_secret(cx).await?;
        self.add_registration_access_token(cx).await?;
        self.build_client(cx).await
    }

    /// Builds the client record to store from what the earlier steps set; see
    /// [`process::build_client`].
    async fn build_client(&self, cx: &mut RegistrationContext) -> StepResult {
        process::build_client(cx)
    }

    /// Fills in what the client left out; see [`process::apply_defaults`].
    async fn apply_defaults(&self, cx: &mut RegistrationContext) -> StepResult {
        process::apply_defaults(cx);
        Ok(())
    }

    /// Issues the identifier of a new client; an update keeps the stored one.
    async fn add_client_id(&self, cx: &mut RegistrationContext) -> StepResult {
        if cx.client_id().is_none() {
            let client_id = self.generate_client_id(cx);
            cx.set_client_id(client_id);
        }
        Ok(())
    }

    /// A new client identifier; see [`process::random_client_id`].
    fn generate_client_id(&self, cx: &RegistrationContext) -> ClientId {
        process::random_client_id(cx)
    }

    /// Keeps, issues or drops the secret as the auth method needs; see
    /// [`process::add_client_secret`].
    async fn add_client_secret(&self, cx: &mut RegistrationContext) -> StepResult {
        process::add_client_secret(cx, |cx| self.generate_client_secret(cx))
    }

    /// A new client secret: 512 random bits, so that it keys every HMAC algorithm offered for
    /// `client_secret_jwt` (see [`process::random_client_secret`]).
    fn generate_client_secret(&self, cx: &RegistrationContext) -> Secret {
        process::random_client_secret(cx)
    }

    /// Issues a new registration access token: every registration and every update by the
    /// client itself gets one; an administrator's update leaves the client's token as it is.
    async fn add_registration_access_token(&self, cx: &mut RegistrationContext) -> StepResult {
        if cx.caller().is_administrator() && cx.current().is_some() {
            return Ok(());
        }
        let token = self.generate_registration_access_token(cx);
        cx.set_registration_access_token(token);
        Ok(())
    }

    /// A new registration access token: 256 random bits.
    fn generate_registration_access_token(&self, cx: &RegistrationContext) -> Secret {
        process::random_credential(cx)
    }
}

/// Every default processor step.
#[derive(Debug, Default, Clone, Copy)]
pub struct DefaultProcessor;

impl Processor for DefaultProcessor {}
