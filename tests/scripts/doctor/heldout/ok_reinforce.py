"""Correct: REINFORCE on a bandit: log-probabilities of sampled actions times normalised returns."""
import torch
from torch import nn

torch.manual_seed(35)
policy = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 3))
optimizer = torch.optim.Adam(policy.parameters(), lr=1e-2)
reward_of = torch.tensor([0.1, 1.0, -0.5])
for _ in range(8):
    states = torch.randn(16, 4)
    dist = torch.distributions.Categorical(logits=policy(states))
    actions = dist.sample()
    returns = reward_of[actions] + 0.1 * torch.randn(16)
    returns = (returns - returns.mean()) / (returns.std() + 1e-8)
    loss = -(dist.log_prob(actions) * returns).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
