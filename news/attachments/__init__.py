"""Attachments of releases: documents (PDF, ODF, DOCX, XLSX) and photo galleries, validated
from their content, kept in a private storage and served only while the public may see
their release (`news.attachments.views.serve`)."""
