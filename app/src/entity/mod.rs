//! Database rows as sea-orm entities. They stay on the server; pages and the
//! REST API see the view types in `model`.

pub mod care_session;
pub mod district;
pub mod place;
pub mod street;
