"""A project folder and its state: where its files are (`folder`), the build that turns them into a
store (`build`), and every write to them (`additions`, `sources`), plus copying a built graph elsewhere
(`push`)."""
