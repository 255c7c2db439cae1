"""Phrase banks for generated transcripts. Agent negative lines are rude or dismissive on
purpose, so a lexicon model (VADER) scores them negative; customer lines follow the STA score."""

from __future__ import annotations

AGENT = {
    "negative": [
        "That is not my problem. You should have read the terms, it is your own stupid mistake.",
        "I already told you, I can't help you and I really don't care to repeat it.",
        "This is a stupid complaint and honestly you are wasting my time.",
        "No. That's wrong, and I'm not going to argue about it with you.",
        "Ugh, fine, whatever. It's your fault for breaking it, not ours.",
        "Stop interrupting me. I hate having to explain this again and again.",
        "That's a ridiculous request, we never do that, so don't ask again.",
    ],
    "neutral": [
        "Let me look up your account details.",
        "I can see the order on the system now.",
        "I will check the status with the team.",
        "The reference number is on the confirmation email.",
        "One moment while I open the case.",
        "I have updated the record with that information.",
    ],
    "positive": [
        "I'm really glad you called, I'd be happy to sort this out for you today.",
        "Great question! Thank you for your patience, I appreciate it.",
        "I completely understand, thank you for explaining. Let's fix it together.",
        "Wonderful, that's all sorted now. Thanks so much for being so helpful.",
        "Absolutely, I'd love to help. You've done everything right.",
    ],
}

CUSTOMER = {
    "negative": [
        "This is terrible service, I am really angry about this.",
        "I've been waiting for weeks and nobody helps. This is awful and unacceptable.",
        "I'm furious, you charged me twice and I hate dealing with this.",
        "Your product is broken and useless, I want to cancel.",
        "This is the worst experience I've ever had with a company.",
    ],
    "neutral": [
        "I'm calling about my account.",
        "I have a question about the last invoice.",
        "Can you check the delivery date for me?",
        "I need to update my address.",
        "The reference is on the email you sent.",
    ],
    "positive": [
        "Thank you so much, that's brilliant, you've been really helpful.",
        "Perfect, I really appreciate your help today.",
        "That's great news, thanks, I'm very happy with that.",
        "Wonderful, you made this so easy. Thank you!",
    ],
}

OPENING = {"voice": "Thank you for calling, you're speaking with {agent}.",
           "chat": "Hi, you're chatting with {agent}.",
           "message": "Hi, this is {agent} from customer care.",
           "email": "Hello, this is {agent} replying to your email."}

INQUIRY_LINES = {
    "Billing dispute": "I think I've been overcharged on my last bill.",
    "Technical fault": "My router keeps dropping the connection every evening.",
    "Cancellation request": "I'd like to cancel my subscription.",
    "Order status": "Where is my order? It was due yesterday.",
    "Account update": "I need to change the email address on my account.",
}
