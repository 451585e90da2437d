//! The demo citizens offered on the stand-in portal's login page.

/// One demo citizen offered on the login page.
#[derive(Debug, Clone, Copy)]
pub struct Citizen {
    /// Stable subject identifier, the `sub` claim.
    pub subject: &'static str,
    /// Display name in Chinese, the `name` claim.
    pub name: &'static str,
    /// Mainland mobile number of 11 digits. The `phone_number` claim carries
    /// it in E.164 form with the `+86` country code.
    pub mobile: &'static str,
    /// Whether the citizen completed real-name verification.
    pub verified: bool,
    /// Role shown on the login page, in Simplified Chinese.
    pub description_zh: &'static str,
    /// Role shown on the login page, in English.
    pub description_en: &'static str,
}

impl Citizen {
    /// Returns the mobile number in E.164 form, as OpenID Connect recommends
    /// for the `phone_number` claim.
    pub fn phone_number(&self) -> String {
        format!("+86{}", self.mobile)
    }
}

/// Every demo citizen, in the order of the login page. The mobile numbers
/// follow an obviously fake pattern (`199 0000 00xx`, `139 0000 00xx`).
pub const CITIZENS: &[Citizen] = &[
    Citizen {
        subject: "demo-parent",
        name: "陈静",
        mobile: "19900000001",
        verified: true,
        description_zh: "家长",
        description_en: "Parent",
    },
    Citizen {
        subject: "demo-grandparent",
        name: "李建国",
        mobile: "19900000002",
        verified: true,
        description_zh: "祖父母",
        description_en: "Grandparent",
    },
    Citizen {
        subject: "demo-staff",
        name: "周敏",
        mobile: "19900000003",
        verified: true,
        description_zh: "社区亲子室工作人员",
        description_en: "Community parent-child room staff",
    },
    Citizen {
        subject: "demo-district-admin",
        name: "刘洋",
        mobile: "19900000004",
        verified: true,
        description_zh: "区管理员",
        description_en: "District administrator",
    },
    Citizen {
        subject: "demo-city-admin",
        name: "张伟",
        mobile: "19900000005",
        verified: true,
        description_zh: "市管理员",
        description_en: "City administrator",
    },
    // A Uyghur-style name: given name and family name joined by U+00B7
    // MIDDLE DOT, as on mainland identity cards.
    Citizen {
        subject: "demo-parent-aygul",
        name: "阿依古丽·买买提",
        mobile: "13900000006",
        verified: true,
        description_zh: "家长",
        description_en: "Parent",
    },
    Citizen {
        subject: "demo-parent-unverified",
        name: "赵小雨",
        mobile: "13900000007",
        verified: false,
        description_zh: "家长",
        description_en: "Parent",
    },
];

/// Finds a demo citizen by subject.
pub fn find_citizen(subject: &str) -> Option<&'static Citizen> {
    CITIZENS.iter().find(|citizen| citizen.subject == subject)
}
