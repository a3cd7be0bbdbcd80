"""Launcher for ``streamlit run streamlit_app.py`` in a checkout: runs the packaged page.

The dashboard itself is ``graphviz_bp/app/page.py`` (``graphviz-bp app`` runs it from any
directory after an install). Streamlit re-runs this script on every interaction, so the page is
executed afresh each time rather than imported once.
"""
import runpy

runpy.run_module("graphviz_bp.app.page", run_name="__main__")
