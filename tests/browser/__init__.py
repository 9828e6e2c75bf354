"""The course as a learner sees it: JupyterLab driven by Playwright over headless Chromium."""
