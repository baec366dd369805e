"""Thread counts seen by a learner's fit: the one-thread rules are checked, not timed."""


def threads(user_api: str):
    from threadpoolctl import threadpool_info

    return max((p["num_threads"] for p in threadpool_info() if p["user_api"] == user_api), default=None)


def threads_seen_by_fit(monkeypatch, cls, user_api: str) -> list:
    """The thread count of `user_api` each call of cls.fit ran under."""
    seen = []
    real_fit = cls.fit

    def recording_fit(self, X, y, **kw):
        seen.append(threads(user_api))
        return real_fit(self, X, y, **kw)

    monkeypatch.setattr(cls, "fit", recording_fit)
    return seen
