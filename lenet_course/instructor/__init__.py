"""The instructor's tools: the learner release and grading (README, "For instructors").

- :mod:`~lenet_course.instructor.notebook_format`: how a chapter marks exercises, checks and points;
- :mod:`~lenet_course.instructor.release`: ``python -m lenet_course release``;
- :mod:`~lenet_course.instructor.grade`: ``python -m lenet_course grade`` (``lenet-grade``);
- :mod:`~lenet_course.instructor.feedback`: the gradebook and the learners' feedback files;
- :mod:`~lenet_course.instructor.nbval_record`: the pytest plugin that records each cell's result;
- ``nbval_sanitize.cfg``: what nbval normalises before comparing outputs (tests and grading alike).
"""
