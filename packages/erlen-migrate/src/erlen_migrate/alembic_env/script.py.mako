<%doc>
    Alembic renders the template of its script_location: this one renders the
    project's migrations/script.py.mako (or erlen's default template).
</%doc>\
<%!
    from mako.template import Template
    from erlen_migrate.environment import revision_template
%>\
<% path, arguments = revision_template(context.kwargs) %>\
${Template(filename=path).render_unicode(**arguments)}