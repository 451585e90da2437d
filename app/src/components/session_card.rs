use leptos::prelude::*;

use crate::i18n::{t_string, use_i18n};
use crate::model::{SessionKind, SessionSummary};
use crate::time::format_span;

/// Renders one session with its time, age range, price and places left.
#[component]
pub fn SessionCard(session: SessionSummary) -> impl IntoView {
    let i18n = use_i18n();
    let SessionSummary {
        id,
        kind,
        title,
        starts_at,
        ends_at,
        capacity,
        places_left,
        min_age_months,
        max_age_months,
        price_fen,
        ..
    } = session;
    let when = move || format_span(starts_at, ends_at, i18n.get_locale());
    let kind_label = move || match kind {
        SessionKind::HourlyCare => t_string!(i18n, session_kind_hourly_care),
        SessionKind::ParentChildActivity => t_string!(i18n, session_kind_parent_child_activity),
        SessionKind::Class => t_string!(i18n, session_kind_class),
    };
    let price = move || {
        if price_fen == 0 {
            t_string!(i18n, session_free).to_string()
        } else {
            let yuan = format_yuan(price_fen);
            t_string!(i18n, session_price, yuan).to_string()
        }
    };
    let availability = move || {
        if places_left == 0 {
            t_string!(i18n, session_full).to_string()
        } else {
            t_string!(i18n, session_places_left, left = places_left, capacity).to_string()
        }
    };
    let age = move || {
        t_string!(
            i18n,
            session_age_range,
            min = min_age_months,
            max = max_age_months
        )
        .to_string()
    };
    let full_class = if places_left == 0 {
        "session session-full"
    } else {
        "session"
    };
    view! {
        <li class=full_class>
            <p class="session-kind">{kind_label}</p>
            <h3 class="session-title"><a href=format!("/sessions/{id}")>{title}</a></h3>
            <p class="session-when">{when}</p>
            <p class="session-meta">{age}" · "{price}</p>
            <p class="session-left">{availability}</p>
        </li>
    }
}

/// Formats fen as yuan with at most two decimals: 1500 → "15", 1250 → "12.5".
pub(crate) fn format_yuan(fen: u32) -> String {
    let yuan = fen / 100;
    match fen % 100 {
        0 => yuan.to_string(),
        cents if cents % 10 == 0 => format!("{yuan}.{}", cents / 10),
        cents => format!("{yuan}.{cents:02}"),
    }
}

#[cfg(test)]
mod tests {
    use super::format_yuan;

    #[test]
    fn yuan_formatting_drops_trailing_zeros() {
        let cases = [
            (0, "0"),
            (1500, "15"),
            (1250, "12.5"),
            (1205, "12.05"),
            (99, "0.99"),
        ];
        for (fen, expected) in cases {
            assert_eq!(format_yuan(fen), expected, "{fen} fen");
        }
    }
}
