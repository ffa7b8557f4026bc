"""The newsroom: the admin of releases (`releases`), its forms (`forms`), the revision screens'
diff (`diff`) and the admin site (`site`). `news/admin.py` registers it with Django's admin."""
