"""The web page: server-rendered HTML over the same runtime as the REST API.

French by default, English on request; no build step and nothing fetched from the network
(the Content-Security-Policy allows this origin only). PIL and pypdfium2 are imported only
when a picture is rendered, so importing the app stays cheap.
"""
