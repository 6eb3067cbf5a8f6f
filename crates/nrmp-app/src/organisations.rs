//! The directory of organisations ("whom to call"): open to every signed-in role.

use crate::Register;
use crate::access::Attempt;
use crate::error::AppResult;
use nrmp_domain::access::Principal;
use nrmp_domain::access::{Action, ResourceKind, Target};
use nrmp_domain::organisation::Organisation;

impl Register {
    /// Every organisation, by code.
    pub async fn organisations(&self, caller: &Principal) -> AppResult<Vec<Organisation>> {
        self.decide(
            caller,
            Attempt {
                action: Action::Read,
                resource: ResourceKind::Organisation,
                ids: &[],
            },
            &Target::Register,
            None,
        )
        .await?;
        Ok(self.store.organisations().await?)
    }
}
