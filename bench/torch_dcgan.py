"""The standard DCGAN at 32x32 in PyTorch (the reference for bench/train_throughput.py).

The architecture and training step of PyTorch's DCGAN example (pytorch/examples,
dcgan/main.py) at 32 px: G 100-512-256-128-3 transposed convolutions with batch
norm and ReLU, tanh; D 3-128-256-512-1 convolutions with batch norm (not on the
first) and LeakyReLU 0.2; no biases; BCE with logits; Adam 2e-4, betas (0.5, 0.999).
One step: D on a real batch and on G(z).detach(), D update; then D(G(z)) with the
same fake batch, G update. Optional bench dependency: `pip install '.[bench]'`
(on a CPU-only machine, PyTorch's CPU-only wheel is the small one).
"""

import torch
from torch import nn


def generator(latent_dim=100, width=128, channels=3):
    def up(cin, cout):
        return [nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]

    return nn.Sequential(
        nn.ConvTranspose2d(latent_dim, width * 4, 4, 1, 0, bias=False),
        nn.BatchNorm2d(width * 4),
        nn.ReLU(),
        *up(width * 4, width * 2),
        *up(width * 2, width),
        nn.ConvTranspose2d(width, channels, 4, 2, 1, bias=False),
        nn.Tanh(),
    )


def discriminator(width=128, channels=3):
    def down(cin, cout):
        return [nn.Conv2d(cin, cout, 4, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2)]

    return nn.Sequential(
        nn.Conv2d(channels, width, 4, 2, 1, bias=False),
        nn.LeakyReLU(0.2),
        *down(width, width * 2),
        *down(width * 2, width * 4),
        nn.Conv2d(width * 4, 1, 4, 1, 0, bias=False),
        nn.Flatten(),
    )


class DCGAN:
    def __init__(self, latent_dim=100, width=128, channels=3, bf16=False):
        self.latent_dim, self.bf16 = latent_dim, bf16
        self.g, self.d = generator(latent_dim, width, channels), discriminator(width, channels)
        adam = {"lr": 2e-4, "betas": (0.5, 0.999)}
        self.g_opt = torch.optim.Adam(self.g.parameters(), **adam)
        self.d_opt = torch.optim.Adam(self.d.parameters(), **adam)
        self.bce = nn.BCEWithLogitsLoss()

    def autocast(self):
        return torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16)

    def train_step(self, real):
        batch = real.shape[0]
        ones, zeros = torch.ones(batch, 1), torch.zeros(batch, 1)
        z = torch.randn(batch, self.latent_dim, 1, 1)
        self.d_opt.zero_grad(set_to_none=True)
        with self.autocast():
            fake = self.g(z)
            d_loss = self.bce(self.d(real).float(), ones) + self.bce(
                self.d(fake.detach()).float(), zeros
            )
        d_loss.backward()
        self.d_opt.step()
        self.g_opt.zero_grad(set_to_none=True)
        with self.autocast():
            g_loss = self.bce(self.d(fake).float(), ones)
        g_loss.backward()
        self.g_opt.step()
        return float(d_loss), float(g_loss)

    @torch.no_grad()
    def generate(self, batch):
        self.g.eval()
        with self.autocast():
            images = self.g(torch.randn(batch, self.latent_dim, 1, 1)).float()
        self.g.train()
        return images


def main():
    """A whole training process, as a user runs a script: `python bench/torch_dcgan.py
    --steps N` (random images in [-1, 1], the model's batch)."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__.split(":")[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--batch", type=int, default=128)
    args = parser.parse_args()
    torch.manual_seed(0)
    gan = DCGAN()
    real = torch.rand(args.batch, 3, 32, 32) * 2 - 1
    for _ in range(args.steps):
        gan.train_step(real)


if __name__ == "__main__":
    main()
