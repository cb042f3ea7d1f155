"""The notebook viewer: an anywidget front end over the dataset model.

`Viewer` lives in `widget.viewer`; this package does not import it eagerly, so that
`wk_widget.widget.protocol` (plain constants) stays importable without anywidget.
"""
