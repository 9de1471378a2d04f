"""One router per resource: ask, faq, admin, feedback, health."""
