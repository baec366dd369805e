"""RunDetails: Azure's notebook widget (azureml.widgets), as a leaderboard table."""

from __future__ import annotations

from typing import Any


class RunDetails:
    def __init__(self, run_instance: Any):
        self.run = run_instance

    def get_widget_data(self) -> dict[str, Any]:
        run = self.run
        board = run.leaderboard.drop(columns=["params"], errors="ignore")
        return {"run_id": run.id, "status": run.status, "primary_metric": run.primary_metric,
                "stop_reason": run.stop_reason, "children": board.to_dict(orient="records")}

    def show(self) -> None:
        """The status line and the leaderboard: an HTML table in a notebook, text elsewhere."""
        data = self.get_widget_data()
        board = self.run.leaderboard.drop(columns=["params"], errors="ignore")
        head = (f"Run {data['run_id']}: {data['status']}, {len(board)} children, primary metric "
                f"{data['primary_metric']} ({data['stop_reason']})")
        try:
            from IPython import get_ipython
            from IPython.display import HTML, display

            if get_ipython() is not None:
                display(HTML(f"<p>{head}</p>" + board.to_html(index=False)))
                return
        except ImportError:
            pass
        print(head)
        print(board.to_string(index=False))
