"""The public site: pages (`views`, reading through `selectors`), feeds, the sitemap, search and
the signed preview, with the Jinja2 environment of their templates (`templating`)."""
