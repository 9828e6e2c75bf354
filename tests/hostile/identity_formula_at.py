# A learner folder named like a spreadsheet formula (@).
# learner: @SUM(1+1)
# base: wrong
# marks: 0
# flagged: no
