# A notebook named after no chapter.
# file: 99_no_such_chapter.ipynb
# status: unknown chapter
# marks: 0
# flagged: no
# note: no chapter matches
