# A learner folder named like a spreadsheet formula (=).
# learner: =1+2
# base: reference
# marks: 3
# flagged: no
