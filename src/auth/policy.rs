//! Roles and permissions: the one place that decides who may do what.
//! Handlers ask `actor.require(Permission::…)`; nothing else compares roles.

use crate::error::AppError;

/// What a person is in their organization. Ordered by what they may do.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Employee,
    Manager,
    HrAdmin,
    Owner,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Employee, Role::Manager, Role::HrAdmin, Role::Owner];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Employee => "employee",
            Role::Manager => "manager",
            Role::HrAdmin => "hr_admin",
            Role::Owner => "owner",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Employee => "Employee",
            Role::Manager => "Manager",
            Role::HrAdmin => "HR admin",
            Role::Owner => "Owner",
        }
    }

    /// Accepts the stored spelling and the usual variants found in HRIS
    /// exports ("HR admin", "hr-admin", "Owner").
    pub fn parse(raw: &str) -> Result<Role, String> {
        let key: String = raw
            .trim()
            .to_ascii_lowercase()
            .chars()
            .map(|c| if c == ' ' || c == '-' { '_' } else { c })
            .collect();
        match key.as_str() {
            "employee" => Ok(Role::Employee),
            "manager" => Ok(Role::Manager),
            "hr_admin" | "hr" | "hradmin" => Ok(Role::HrAdmin),
            "owner" => Ok(Role::Owner),
            _ => Err(format!(
                "{:?} is not a role: choose Employee, Manager, HR admin or Owner",
                raw.trim()
            )),
        }
    }
}

/// Things a person may be allowed to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    /// List, add, edit and deactivate people and teams; import people.
    ManagePeople,
    /// Give or take away the owner role.
    ManageOwners,
    /// Read the audit log of the whole organization.
    ViewAuditLog,
    /// Design pulses, launch and close cycles, see every team's results.
    ManageSurveys,
    /// Organization settings: the anonymity threshold, sharing results.
    ManageSettings,
    /// The company values, employee-of-the-month rounds, and every team's
    /// recognition counts.
    ManageRecognition,
    /// Download the results a person may see as a file (managers for their
    /// teams, HR for all); employees read shared results on the page.
    ExportResults,
    /// Receive and answer the feedback box's messages to one's team.
    ReceiveTeamFeedback,
    /// Receive and answer the feedback box's messages to the organization.
    ReceiveOrgFeedback,
    /// Plan actions on results and follow them up (managers for their
    /// teams and sub-teams, HR and owners for every group).
    PlanActions,
    /// Edit the conversation templates and read the conversation counts
    /// (never a note).
    ManageConversations,
}

/// The table of permissions.
pub fn allows(role: Role, permission: Permission) -> bool {
    match permission {
        Permission::ManagePeople
        | Permission::ManageSurveys
        | Permission::ManageRecognition
        | Permission::ManageConversations => role >= Role::HrAdmin,
        Permission::ManageOwners | Permission::ViewAuditLog | Permission::ManageSettings => role == Role::Owner,
        Permission::ExportResults | Permission::ReceiveTeamFeedback | Permission::PlanActions => role >= Role::Manager,
        Permission::ReceiveOrgFeedback => role >= Role::HrAdmin,
    }
}

/// The signed-in person on whose behalf a use case runs. Every query of a
/// use case is scoped by `org_id`, which comes from here and nowhere else.
#[derive(Clone, Debug)]
pub struct Actor {
    pub org_id: i64,
    pub person_id: i64,
    pub role: Role,
}

impl Actor {
    /// The command line acting on an organization with an owner's rights.
    /// Person id 0 is never a real person.
    pub fn system(org_id: i64) -> Actor {
        Actor {
            org_id,
            person_id: 0,
            role: Role::Owner,
        }
    }

    pub fn can(&self, permission: Permission) -> bool {
        allows(self.role, permission)
    }

    pub fn require(&self, permission: Permission) -> Result<(), AppError> {
        if self.can(permission) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }
}

/// The owner rule, for every way a role changes (a form, the API, an
/// import): giving or taking the owner role needs an owner, and an
/// organization keeps at least one active owner. `current` is None for a
/// new person; `other_owners` says whether another active owner remains.
/// The refusal is said in words for the role field.
pub fn role_change(actor: &Actor, current: Option<Role>, new: Role, other_owners: bool) -> Result<(), &'static str> {
    let touches_owner = new == Role::Owner || current == Some(Role::Owner);
    if touches_owner && current != Some(new) && !actor.can(Permission::ManageOwners) {
        return Err("only an owner can give or take away the owner role");
    }
    if current == Some(Role::Owner) && new != Role::Owner && !other_owners {
        return Err("the organization needs at least one active owner");
    }
    Ok(())
}

/// Whether a person of this role is an owner (for counting who remains).
pub fn is_owner(role: Role) -> bool {
    role == Role::Owner
}

/// Whether a person of this role sees things as a team's manager: their
/// team's results and recognition, not the whole organization's.
pub fn is_team_manager(role: Role) -> bool {
    role == Role::Manager
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_owner_rule_needs_an_owner_and_keeps_one() {
        let hr = Actor {
            org_id: 1,
            person_id: 2,
            role: Role::HrAdmin,
        };
        let owner = Actor {
            role: Role::Owner,
            ..hr.clone()
        };
        assert!(role_change(&hr, None, Role::Owner, true).is_err());
        assert!(role_change(&hr, Some(Role::Owner), Role::Employee, true).is_err());
        assert!(role_change(&hr, Some(Role::Owner), Role::Owner, false).is_ok());
        assert!(role_change(&hr, Some(Role::Employee), Role::Manager, false).is_ok());
        assert!(role_change(&owner, Some(Role::Owner), Role::HrAdmin, true).is_ok());
        assert_eq!(
            role_change(&owner, Some(Role::Owner), Role::HrAdmin, false),
            Err("the organization needs at least one active owner")
        );
        assert!(role_change(&owner, None, Role::Owner, false).is_ok());
    }

    #[test]
    fn only_hr_admins_and_owners_manage_people() {
        assert!(!allows(Role::Employee, Permission::ManagePeople));
        assert!(!allows(Role::Manager, Permission::ManagePeople));
        assert!(allows(Role::HrAdmin, Permission::ManagePeople));
        assert!(allows(Role::Owner, Permission::ManagePeople));
        assert!(!allows(Role::HrAdmin, Permission::ManageOwners));
        assert!(allows(Role::Owner, Permission::ManageOwners));
        assert!(!allows(Role::HrAdmin, Permission::ViewAuditLog));
        assert!(allows(Role::Owner, Permission::ViewAuditLog));
    }

    #[test]
    fn roles_parse_from_hris_spellings() {
        assert_eq!(Role::parse("HR Admin"), Ok(Role::HrAdmin));
        assert_eq!(Role::parse(" manager "), Ok(Role::Manager));
        assert_eq!(Role::parse("hr-admin"), Ok(Role::HrAdmin));
        assert!(Role::parse("boss").is_err());
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Ok(role));
        }
    }
}
