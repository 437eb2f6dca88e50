"""The public site's front pages: the home page and a campaign's page.

They show every kind of action together (petitions, pledges, events, and so on), so they sit
above the domain areas as a surface, like the API and the embeds.
"""
