"""The instructor's tools: the learner release and grading (README, "For instructors").

- :mod:`~lenet_course.instructor.notebook_format`: how a chapter marks exercises, checks and points;
- :mod:`~lenet_course.instructor.release`: ``python -m lenet_course release``;
- :mod:`~lenet_course.instructor.grade`: ``python -m lenet_course grade`` (``lenet-grade``);
- :mod:`~lenet_course.instructor.marks`: what grading finds, a submission's marks exercise by exercise;
- :mod:`~lenet_course.instructor.sandbox`: the bubblewrap sandbox each graded notebook runs in;
- :mod:`~lenet_course.instructor.review`: the cells a person should look at (names resolved);
- :mod:`~lenet_course.instructor.distributed`: grading on Dask, one task per submission;
- :mod:`~lenet_course.instructor.feedback`: the gradebook, the learners' feedback files, the class summary;
- :mod:`~lenet_course.instructor.nbval_record`: the pytest plugin that explains each cell's result;
- ``nbval_sanitize.cfg``: what nbval normalises before comparing outputs (tests and grading alike).
"""
