"""CodeBuild: the deploy runner's project (components/deploy_runner.py)."""
