"""The control for bench/page_speed.py: a bare Streamlit page with one button, served like the app.

    streamlit run bench/bare_page.py

Same Streamlit, same .streamlit/config.toml, same browser: whatever the Train page takes beyond this
is the Train page's own weight.

The same page answers at the root ("/") and at a page's own URL (SUBPAGE_URL_PATH), as the Train page
does at /train. Opened at a page's URL, Streamlit's frontend first looks for the server under that
path (/train/_stcore/health), and only after that fails and a 100 ms retry delay under "/": every
Streamlit page opened by its own URL pays that, the app's or not. page_speed.py times the bare page
both ways, so the Train page can be compared with the control at the root (the issue's) and with the
same page opened as the Train page is.
"""

import streamlit as st

SUBPAGE_URL_PATH = "button"


def bare_page() -> None:
    st.title("A bare page")
    clicks = st.session_state.get("clicks", 0) + bool(st.button("Train", type="primary"))
    st.session_state["clicks"] = clicks
    # bench/first_point.py times a click until this line changes: the script has run again and been drawn.
    st.caption(f"{clicks} clicks")


if __name__ == "__main__":  # as Streamlit runs it (page_speed.py imports SUBPAGE_URL_PATH only)
    # No navigation is shown (position="hidden"): either URL draws the title, the button and the caption only.
    pages = [
        st.Page(bare_page, title="A bare page", url_path="root", default=True),
        st.Page(bare_page, title="The bare page at its own URL", url_path=SUBPAGE_URL_PATH),
    ]
    st.navigation(pages, position="hidden").run()
