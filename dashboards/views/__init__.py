"""One Streamlit page script per dashboard page (dashboards/registry.py lists them).

Not named `pages/`: Streamlit treats a `pages/` folder beside the entry point as the old multipage layout
and, until some session has run `st.navigation`, serves its scripts directly at their URLs, bypassing the
entry point and so its login.
"""
