"""The checks behind the site's claims, the experiments they run and the values they put in pages."""
