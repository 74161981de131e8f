"""The executive dashboards: `streamlit run dashboards/app.py`.

This entry point decides who may look (open on the local profile; OpenID Connect through Streamlit's
login when the dashboard's authentication is configured) and which page runs. The pages read only the
published warehouse, through the metric catalogue (dashboards/views/).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboards.registry import PAGES, TITLES
from lakehouse.settings import SettingsError, load_settings

VIEWS = Path(__file__).resolve().parent / "views"

ICONS = {
    "overview": ":material/dashboard:",
    "learning": ":material/school:",
    "marketing_roi": ":material/campaign:",
    "finance": ":material/account_balance:",
    "ai_products": ":material/smart_toy:",
}


def signed_in() -> bool:
    """True when the viewer may see the pages; otherwise the page asks them to log in."""
    try:
        settings = load_settings()
    except SettingsError as error:
        st.error(str(error))
        return False
    # Login authenticates; it does not authorize. Every signed-in user sees every page, and the pages show
    # no personal data, only aggregates.
    if not getattr(settings, "dashboard_auth_enabled", False):
        return True
    if st.user.is_logged_in:
        st.sidebar.button("Log out", on_click=st.logout, icon=":material/logout:")
        return True
    st.title("AI business dashboards")
    st.write("Sign in with your organisation's account to see the dashboards.")
    st.button("Log in", on_click=st.login, type="primary", icon=":material/login:")
    return False


def main() -> None:
    st.set_page_config(page_title="AI business dashboards", page_icon=":material/insights:", layout="wide")
    if not signed_in():
        return
    pages = [
        st.Page(VIEWS / f"{page}.py", title=TITLES[page], icon=ICONS[page], url_path=page) for page in PAGES
    ]
    st.navigation(pages).run()


main()
