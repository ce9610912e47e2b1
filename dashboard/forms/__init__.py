"""Forms of the staff dashboard, one module per area: they shape input for
one service each.

The rules themselves live in the services; a form only collects fields and
puts a service's `DomainError` next to the field it names
(privacydesk.forms.ServiceErrorsMixin).
"""
