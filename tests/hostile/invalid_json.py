# A notebook cut short: not JSON.
# build: invalid_json
# status: invalid notebook
# marks: 0
# flagged: no
# results: not graded, not graded, not graded
# note: not valid JSON
