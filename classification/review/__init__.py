"""The reviewer workbench: queues, the decision panel and the broker's actions (issue 7)."""
