"""Closed-form matrix derivatives by symbolic reverse accumulation in matrix form (issue 14).

``expr`` the expression type (canonicalising constructors) · ``traverse`` walking, substituting,
sizes · ``printing`` plain/LaTeX/Unicode · ``derive`` the op table's matrix templates run backwards
(every node's adjoint, three levels) · ``tidy`` the shortest of expanded/factored forms ·
``check`` numbers for formulas · ``formulas`` the checked result (what the CLI, explain, the checker
and the graph show) · ``paths`` one derivative path's contribution as a checked formula.
"""
